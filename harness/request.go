package harness

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/corslab/corslab/servers"
)

// The APIs a page can send a request with.
const (
	XHR   = "xhr"   // createCORSRequest: XMLHttpRequest, or the XDomainRequest shim in the legacy environment
	Fetch = "fetch" // fetch()
)

// The environments createCORSRequest can run in (Request.Environment).
const (
	Modern = ""       // the browser's own XMLHttpRequest
	Legacy = "legacy" // an XMLHttpRequest without withCredentials, plus the XDomainRequest shim
	NoCORS = "none"   // neither: createCORSRequest returns null
)

// The ways a page can abort its request (Request.Abort).
const (
	AbortAfterSend = "after-send" // abort() right after send()
	AbortOnHeaders = "on-headers" // abort() when the response headers arrive (readyState 2)
)

// The origins a request can go to (Request.Target).
const (
	API   = ""      // the API origin
	Other = "other" // the third origin
	App   = "app"   // the page's own origin (same-origin contrast, redirects that start there)
)

// Request is one cross-origin request: what the page sends and, through
// Policy, what the server answers.
type Request struct {
	// API is XHR (the default, through createCORSRequest) or Fetch.
	API string
	// Environment sets what createCORSRequest finds: Modern (default), Legacy or NoCORS.
	Environment string
	// Method is sent as written (method names are case-sensitive); "" means GET.
	Method string
	// Headers are request headers, set in order with setRequestHeader or fetch's headers.
	Headers []servers.Header
	// Body is the request body; "" sends none.
	Body string
	// Credentials sets withCredentials (XHR) or credentials: "include" (fetch).
	Credentials bool
	// Mode is fetch's mode: "" means "cors"; "no-cors" gives an opaque
	// response; "same-origin" refuses any other origin.
	Mode string
	// RedirectMode is fetch's redirect: "" means "follow"; "manual" or "error".
	RedirectMode string
	// TargetAddressSpace is fetch's targetAddressSpace (Local Network Access):
	// "" sends none; "loopback", "local" or "public" claim where the server is.
	TargetAddressSpace string
	// Policy is what the API origin answers; it travels in the request URL.
	Policy servers.Policy
	// Target picks the origin: API (default), Other or App.
	Target string
	// Path is appended to /cors/<token>, e.g. "/users".
	Path string
	// URL sends the request to this absolute URL instead of a built-in origin
	// (Policy and Path are then not used); the token goes in the corslab-token query parameter.
	// A URL that starts with "/" is a path on the API: Options.APIURL, or else
	// the API origin (which then serves the user's own handler, Servers.API).
	URL string
	// Timeout sets xhr.timeout (or aborts the fetch); 0 means none.
	Timeout time.Duration
	// Abort makes the page abort its own request: AbortAfterSend or AbortOnHeaders.
	Abort string
	// UploadListener adds an xhr.upload progress listener, which forces a preflight.
	UploadListener bool
	// Sync sends a synchronous XMLHttpRequest (open with async false) instead
	// of createCORSRequest's asynchronous one; the page blocks until the answer.
	Sync bool
	// Token reuses the token of an earlier Result, so the request has the same
	// URL (and so the same preflight-cache entry); "" makes a new token.
	Token string
}

// Label is a short description of the request for transcripts.
func (r Request) Label() string {
	var parts []string
	api := r.API
	if api == "" {
		api = XHR
	}
	if r.Environment != "" {
		api += " " + r.Environment
	}
	parts = append(parts, api)
	if r.Mode != "" {
		parts = append(parts, "mode "+r.Mode)
	}
	if r.RedirectMode != "" {
		parts = append(parts, "redirect "+r.RedirectMode)
	}
	if r.TargetAddressSpace != "" {
		parts = append(parts, "targetAddressSpace "+r.TargetAddressSpace)
	}
	if r.Credentials {
		parts = append(parts, "credentials")
	}
	for _, h := range r.Headers {
		parts = append(parts, h.Name+": "+h.Value)
	}
	if r.Abort != "" {
		parts = append(parts, "abort "+r.Abort)
	}
	if r.Sync {
		parts = append(parts, "sync")
	}
	if r.Timeout > 0 {
		parts = append(parts, "timeout "+r.Timeout.String())
	}
	return strings.Join(parts, ", ")
}

func (r Request) method() string {
	if r.Method == "" {
		return "GET"
	}
	return r.Method
}

// RequestError says which field of a Request is wrong and why.
type RequestError struct {
	Field string
	Value string
	Err   error
}

func (e *RequestError) Error() string {
	return fmt.Sprintf("request field %s = %q: %v", e.Field, e.Value, e.Err)
}

func (e *RequestError) Unwrap() error { return e.Err }

// Validate reports the first field that cannot be sent, naming it.
// allowRemote permits a URL whose host is not on this machine.
func (r Request) Validate(allowRemote bool) error {
	switch r.API {
	case "", XHR, Fetch:
	default:
		return &RequestError{"API", r.API, errors.New(`must be "xhr" or "fetch"`)}
	}
	switch r.Environment {
	case Modern, Legacy, NoCORS:
	default:
		return &RequestError{"Environment", r.Environment, errors.New(`must be "", "legacy" or "none"`)}
	}
	if r.Environment != Modern && r.API == Fetch {
		return &RequestError{"Environment", r.Environment, errors.New("only createCORSRequest (API xhr) has environments")}
	}
	if err := servers.CheckHeaderName(r.method()); err != nil {
		return &RequestError{"Method", r.Method, fmt.Errorf("not an HTTP method token: %w", err)}
	}
	for _, h := range r.Headers {
		if err := servers.CheckHeaderName(h.Name); err != nil {
			return &RequestError{"Headers", h.Name, err}
		}
		if err := servers.CheckHeaderValue(h.Value); err != nil {
			return &RequestError{"Headers", h.Name + ": " + h.Value, err}
		}
	}
	switch r.Mode {
	case "", "cors", "no-cors", "same-origin":
	default:
		return &RequestError{"Mode", r.Mode, errors.New(`must be "cors", "no-cors" or "same-origin"`)}
	}
	switch r.RedirectMode {
	case "", "follow", "manual", "error":
	default:
		return &RequestError{"RedirectMode", r.RedirectMode, errors.New(`must be "follow", "manual" or "error"`)}
	}
	switch r.TargetAddressSpace {
	case "", "loopback", "local", "public":
	default:
		return &RequestError{"TargetAddressSpace", r.TargetAddressSpace, errors.New(`must be "loopback", "local" or "public"`)}
	}
	if r.TargetAddressSpace != "" && r.API != Fetch {
		return &RequestError{"TargetAddressSpace", r.TargetAddressSpace, errors.New("only fetch has a target address space")}
	}
	if r.RedirectMode != "" && r.API != Fetch {
		return &RequestError{"RedirectMode", r.RedirectMode, errors.New("only fetch has a redirect mode")}
	}
	if r.Mode != "" && r.API != Fetch {
		return &RequestError{"Mode", r.Mode, errors.New("only fetch has a mode")}
	}
	switch r.Target {
	case API, Other, App:
	default:
		return &RequestError{"Target", r.Target, errors.New(`must be "" (the API origin), "other" or "app"`)}
	}
	switch r.Abort {
	case "", AbortAfterSend, AbortOnHeaders:
	default:
		return &RequestError{"Abort", r.Abort, errors.New(`must be "after-send" or "on-headers"`)}
	}
	if r.Sync && (r.API == Fetch || r.Environment != Modern || r.Abort != "" || r.Timeout > 0 || r.UploadListener || r.Policy.Stall != "" && r.Policy.Stall != servers.StallClose) {
		// A stalled answer would block the page's only thread past any timeout.
		return &RequestError{"Sync", "true", errors.New("a synchronous request is a plain XMLHttpRequest: no fetch, environment, abort, timeout, upload listener or stalled answer")}
	}
	if r.Timeout < 0 {
		return &RequestError{"Timeout", r.Timeout.String(), errors.New("must not be negative")}
	}
	if r.Token != "" && !validToken(r.Token) {
		return &RequestError{"Token", r.Token, errors.New("a token is 1-64 letters, digits, '-' or '_'")}
	}
	if strings.ContainsAny(r.Path, "?#") {
		return &RequestError{"Path", r.Path, errors.New("a path has no query or fragment")}
	}
	if strings.HasPrefix(r.URL, "/") {
		if u, err := url.Parse(r.URL); err != nil || strings.HasPrefix(r.URL, "//") || u.Fragment != "" {
			return &RequestError{"URL", r.URL, errors.New(`a relative URL is a path ("/users?page=2"), with no host and no fragment`)}
		}
	} else if r.URL != "" {
		u, err := url.Parse(r.URL)
		if err != nil {
			return &RequestError{"URL", r.URL, err}
		}
		if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
			return &RequestError{"URL", r.URL, errors.New("must be an absolute http or https URL")}
		}
		if !allowRemote && !isLocalHost(u.Hostname()) {
			return &RequestError{"URL", r.URL, errors.New("host is not loopback; corslab sends traffic only to this machine unless Options.AllowRemoteTargets is set")}
		}
	} else if err := r.Policy.Validate(); err != nil {
		return &RequestError{"Policy", "", err}
	}
	return nil
}

// isLocalHost reports whether host is on this machine: a loopback address,
// localhost, or a *.test name (corslab's Chrome maps those to loopback).
func isLocalHost(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") || strings.HasSuffix(host, ".test") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func validToken(t string) bool {
	if len(t) == 0 || len(t) > 64 {
		return false
	}
	for _, c := range t {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// NewToken returns a fresh random token.
func NewToken() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// urlFor builds the request URL for token on the given origins.
func (r Request) urlFor(apiURL, otherURL, appURL, token string) string {
	if r.URL != "" {
		abs := r.URL
		if strings.HasPrefix(abs, "/") {
			abs = apiURL + abs
		}
		u, _ := url.Parse(abs)
		q := u.Query()
		q.Set(servers.TokenParam, token)
		u.RawQuery = q.Encode()
		return u.String()
	}
	base := apiURL
	switch r.Target {
	case Other:
		base = otherURL
	case App:
		base = appURL
	}
	u := base + "/cors/" + token + r.Path
	if q := r.Policy.Query().Encode(); q != "" {
		u += "?" + q
	}
	return u
}

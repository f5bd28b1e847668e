package harness

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
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
	// User and Password are given to XMLHttpRequest's open() (xhr only):
	// credentials in the request, not in its URL.
	User, Password string
	// ReferrerPolicy is fetch's referrerPolicy, e.g. "no-referrer"; "" sends none.
	ReferrerPolicy string
	// Worker sends the request from a dedicated worker the page starts,
	// instead of from the page itself (same origin, another global).
	Worker bool
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
	if r.User != "" {
		parts = append(parts, "open() user "+r.User)
	}
	if r.ReferrerPolicy != "" {
		parts = append(parts, "referrerPolicy "+r.ReferrerPolicy)
	}
	if r.Worker {
		parts = append(parts, "from a worker")
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

// RequestFields is Request's field table: the lab's share link and form and
// the YAML keys of an expectations file derive from it. The request's Policy
// has its own table (servers.PolicyFields); the Token is not a field: it is
// made for each send.
var RequestFields = servers.Table[Request]{
	{Key: "api", Go: "API", Label: "API", Choices: []string{"", XHR, Fetch},
		Help: "xhr: the article's createCORSRequest (XMLHttpRequest); fetch: fetch().",
		At:   func(r *Request, _ bool) any { return &r.API }},
	{Key: "environment", Go: "Environment", Label: "What createCORSRequest finds", Choices: []string{Modern, Legacy, NoCORS},
		Help: "legacy: an XMLHttpRequest without withCredentials plus the XDomainRequest shim; none: neither (xhr only).",
		At:   func(r *Request, _ bool) any { return &r.Environment }},
	{Key: "method", Go: "Method", Label: "Method", Help: "Sent as written (case-sensitive); empty: GET.",
		At: func(r *Request, _ bool) any { return &r.Method }},
	{Key: "headers", Go: "Headers", Label: "Request headers", Help: "One Name: value per line, set in order.",
		At: func(r *Request, _ bool) any { return &r.Headers }},
	{Key: "body", Go: "Body", Label: "Body", Help: "Empty: no body.",
		At: func(r *Request, _ bool) any { return &r.Body }},
	{Key: "credentials", Go: "Credentials", Label: "Send credentials", Help: "withCredentials (xhr) or credentials: \"include\" (fetch).",
		At: func(r *Request, _ bool) any { return &r.Credentials }},
	{Key: "mode", Go: "Mode", Label: "fetch mode", Choices: []string{"", "cors", "no-cors", "same-origin"},
		Help: "fetch only; empty: cors.",
		At:   func(r *Request, _ bool) any { return &r.Mode }},
	{Key: "redirect-mode", Go: "RedirectMode", Label: "fetch redirect", Choices: []string{"", "follow", "manual", "error"},
		Help: "fetch only; empty: follow.",
		At:   func(r *Request, _ bool) any { return &r.RedirectMode }},
	{Key: "target-address-space", Go: "TargetAddressSpace", Label: "fetch targetAddressSpace", Choices: []string{"", "loopback", "local", "public"},
		Help: "fetch only (Local Network Access): where the page claims the server is.",
		At:   func(r *Request, _ bool) any { return &r.TargetAddressSpace }},
	{Key: "target", Go: "Target", Label: "Origin", Choices: []string{API, Other, App},
		Help: "empty: the API origin; other: the third origin; app: the page's own origin.",
		At:   func(r *Request, _ bool) any { return &r.Target }},
	{Key: "path", Go: "Path", Label: "Path after the token", Help: "e.g. /users",
		At: func(r *Request, _ bool) any { return &r.Path }},
	{Key: "url", Go: "URL", Label: "URL", Help: "a path on your API (/users) or an absolute URL instead of corslab's API origin.",
		At: func(r *Request, _ bool) any { return &r.URL }},
	{Key: "timeout", Go: "Timeout", Label: "Timeout", Help: "xhr.timeout, or an abort of the fetch, e.g. 1.5s; empty: none.",
		At: func(r *Request, _ bool) any { return &r.Timeout }},
	{Key: "abort", Go: "Abort", Label: "The page aborts", Choices: []string{"", AbortAfterSend, AbortOnHeaders},
		Help: "after-send: abort() right after send(); on-headers: when the headers arrive.",
		At:   func(r *Request, _ bool) any { return &r.Abort }},
	{Key: "upload-listener", Go: "UploadListener", Label: "xhr.upload listener", Help: "Forces a preflight.",
		At: func(r *Request, _ bool) any { return &r.UploadListener }},
	{Key: "sync", Go: "Sync", Label: "Synchronous XHR", Help: "open(method, url, false).",
		At: func(r *Request, _ bool) any { return &r.Sync }},
	{Key: "user", Go: "User", Label: "open() user", Help: "xhr only: the user name given to XMLHttpRequest's open().",
		At: func(r *Request, _ bool) any { return &r.User }},
	{Key: "password", Go: "Password", Label: "open() password", Help: "xhr only: the password given to open().",
		At: func(r *Request, _ bool) any { return &r.Password }},
	{Key: "referrer-policy", Go: "ReferrerPolicy", Label: "fetch referrerPolicy",
		Choices: []string{"", "no-referrer", "no-referrer-when-downgrade", "origin", "origin-when-cross-origin", "same-origin", "strict-origin", "strict-origin-when-cross-origin", "unsafe-url"},
		Help:    "fetch only.",
		At:      func(r *Request, _ bool) any { return &r.ReferrerPolicy }},
	{Key: "worker", Go: "Worker", Label: "Send from a dedicated worker", Help: "The page starts a worker and the worker sends the request.",
		At: func(r *Request, _ bool) any { return &r.Worker }},
}

func badRequest(key, value string, err error) error {
	return &servers.FieldError{Of: "request", Key: key, Value: value, Err: err}
}

// Validate reports the first field that cannot be sent, naming it.
// allowRemote permits a URL whose host is not on this machine.
func (r Request) Validate(allowRemote bool) error {
	switch r.API {
	case "", XHR, Fetch:
	default:
		return badRequest("api", r.API, errors.New(`must be "xhr" or "fetch"`))
	}
	switch r.Environment {
	case Modern, Legacy, NoCORS:
	default:
		return badRequest("environment", r.Environment, errors.New(`must be "", "legacy" or "none"`))
	}
	if r.Environment != Modern && r.API == Fetch {
		return badRequest("environment", r.Environment, errors.New("only createCORSRequest (API xhr) has environments"))
	}
	if err := servers.CheckHeaderName(r.method()); err != nil {
		return badRequest("method", r.Method, fmt.Errorf("not an HTTP method token: %w", err))
	}
	for _, h := range r.Headers {
		if err := servers.CheckHeaderName(h.Name); err != nil {
			return badRequest("headers", h.Name, err)
		}
		if err := servers.CheckHeaderValue(h.Value); err != nil {
			return badRequest("headers", h.Name+": "+h.Value, err)
		}
	}
	switch r.Mode {
	case "", "cors", "no-cors", "same-origin":
	default:
		return badRequest("mode", r.Mode, errors.New(`must be "cors", "no-cors" or "same-origin"`))
	}
	switch r.RedirectMode {
	case "", "follow", "manual", "error":
	default:
		return badRequest("redirect-mode", r.RedirectMode, errors.New(`must be "follow", "manual" or "error"`))
	}
	switch r.TargetAddressSpace {
	case "", "loopback", "local", "public":
	default:
		return badRequest("target-address-space", r.TargetAddressSpace, errors.New(`must be "loopback", "local" or "public"`))
	}
	if r.TargetAddressSpace != "" && r.API != Fetch {
		return badRequest("target-address-space", r.TargetAddressSpace, errors.New("only fetch has a target address space"))
	}
	if r.RedirectMode != "" && r.API != Fetch {
		return badRequest("redirect-mode", r.RedirectMode, errors.New("only fetch has a redirect mode"))
	}
	if r.Mode != "" && r.API != Fetch {
		return badRequest("mode", r.Mode, errors.New("only fetch has a mode"))
	}
	switch r.Target {
	case API, Other, App:
	default:
		return badRequest("target", r.Target, errors.New(`must be "" (the API origin), "other" or "app"`))
	}
	switch r.Abort {
	case "", AbortAfterSend, AbortOnHeaders:
	default:
		return badRequest("abort", r.Abort, errors.New(`must be "after-send" or "on-headers"`))
	}
	if r.Sync && (r.API == Fetch || r.Environment != Modern || r.Abort != "" || r.Timeout > 0 || r.UploadListener || r.Policy.Stall != "" && r.Policy.Stall != servers.StallClose) {
		// A stalled answer would block the page's only thread past any timeout.
		return badRequest("sync", "true", errors.New("a synchronous request is a plain XMLHttpRequest: no fetch, environment, abort, timeout, upload listener or stalled answer"))
	}
	if (r.User != "" || r.Password != "") && r.API == Fetch {
		return badRequest("user", r.User, errors.New("only XMLHttpRequest's open() takes a user and password"))
	}
	if r.Password != "" && r.User == "" {
		return badRequest("password", r.Password, errors.New("a password goes with a user"))
	}
	if err := RequestFields.CheckChoice("referrer-policy", r.ReferrerPolicy); err != nil {
		return badRequest("referrer-policy", r.ReferrerPolicy, err)
	}
	if r.ReferrerPolicy != "" && r.API != Fetch {
		return badRequest("referrer-policy", r.ReferrerPolicy, errors.New("only fetch has a referrer policy"))
	}
	if r.Timeout < 0 {
		return badRequest("timeout", r.Timeout.String(), errors.New("must not be negative"))
	}
	if r.Token != "" && !validToken(r.Token) {
		return badRequest("token", r.Token, errors.New("a token is 1-64 letters, digits, '-' or '_'"))
	}
	if strings.ContainsAny(r.Path, "?#") {
		return badRequest("path", r.Path, errors.New("a path has no query or fragment"))
	}
	if strings.HasPrefix(r.URL, "/") {
		if u, err := url.Parse(r.URL); err != nil || strings.HasPrefix(r.URL, "//") || u.Fragment != "" {
			return badRequest("url", r.URL, errors.New(`a relative URL is a path ("/users?page=2"), with no host and no fragment`))
		}
	} else if r.URL != "" {
		u, err := url.Parse(r.URL)
		if err != nil {
			return badRequest("url", r.URL, err)
		}
		if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
			return badRequest("url", r.URL, errors.New("must be an absolute http or https URL"))
		}
		if !allowRemote && !isLocalHost(u.Hostname()) {
			return badRequest("url", r.URL, errors.New("host is not loopback; corslab sends traffic only to this machine unless Options.AllowRemoteTargets is set"))
		}
	} else if err := r.Policy.Validate(); err != nil {
		return err
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

// Bases are the origins a request's URL is built on.
type Bases struct {
	API   string // where the API origin's requests (and Request.URL paths) go
	Other string // the third origin
	App   string // the page origin
}

// Resolve builds the URL r is sent to with token on these origins: the API
// origin's /cors/<token><path>?<policy>, or r.URL (a path on the API, or an
// absolute URL) with the token in the corslab-token query parameter.
func (r Request) Resolve(b Bases, token string) (string, error) {
	if r.URL != "" {
		abs := r.URL
		if strings.HasPrefix(abs, "/") {
			abs = strings.TrimSuffix(b.API, "/") + abs
		}
		u, err := url.Parse(abs)
		if err != nil {
			return "", badRequest("url", r.URL, err)
		}
		q := u.Query()
		q.Set(servers.TokenParam, token)
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	base := b.API
	switch r.Target {
	case Other:
		base = b.Other
	case App:
		base = b.App
	}
	u := base + "/cors/" + token + r.Path
	if q := r.Policy.Query().Encode(); q != "" {
		u += "?" + q
	}
	return u, nil
}

// pageRequest is the description cors.js's corslab.run takes.
type pageRequest struct {
	API            string      `json:"api"`
	Environment    string      `json:"environment,omitempty"`
	Method         string      `json:"method"`
	URL            string      `json:"url"`
	Headers        [][2]string `json:"headers"`
	Body           *string     `json:"body"`
	Credentials    bool        `json:"credentials"`
	Mode           string      `json:"mode,omitempty"`
	Redirect       string      `json:"redirect,omitempty"`
	AddressSpace   string      `json:"targetAddressSpace,omitempty"`
	Timeout        int64       `json:"timeout,omitempty"`
	Abort          string      `json:"abort,omitempty"`
	UploadListener bool        `json:"uploadListener,omitempty"`
	Sync           bool        `json:"sync,omitempty"`
	User           *string     `json:"user,omitempty"`
	Password       *string     `json:"password,omitempty"`
	ReferrerPolicy string      `json:"referrerPolicy,omitempty"`
	Worker         bool        `json:"worker,omitempty"`
}

// description is r as cors.js's corslab.run takes it, sent to url with the
// page's own timeout (xhr.timeout or an abort of the fetch) of timeout.
func (r Request) description(url string, timeout time.Duration) ([]byte, error) {
	pr := pageRequest{API: r.API, Environment: r.Environment, Method: r.method(), URL: url,
		Headers: [][2]string{}, Credentials: r.Credentials, Mode: r.Mode, Redirect: r.RedirectMode, AddressSpace: r.TargetAddressSpace,
		Timeout: timeout.Milliseconds(), Abort: r.Abort, UploadListener: r.UploadListener, Sync: r.Sync}
	if pr.API == "" {
		pr.API = XHR
	}
	for _, h := range r.Headers {
		pr.Headers = append(pr.Headers, [2]string{h.Name, h.Value})
	}
	if r.Body != "" {
		pr.Body = &r.Body
	}
	if r.User != "" {
		pr.User, pr.Password = &r.User, &r.Password
	}
	pr.ReferrerPolicy, pr.Worker = r.ReferrerPolicy, r.Worker
	js, err := json.Marshal(pr)
	if err != nil {
		return nil, fmt.Errorf("encode the page's request: %w", err)
	}
	return js, nil
}

// SharePrefix prefixes a Request's fields in its query encoding (Query); the
// Policy's fields go unprefixed, exactly as the API origin's URL carries them.
const SharePrefix = "req."

// Query encodes r (with its Policy, without its Token) as URL query
// parameters from the field tables: the lab's share link. ParseQuery reverses it.
func (r Request) Query() url.Values {
	q := r.Policy.Query()
	RequestFields.Encode(q, SharePrefix, r)
	return q
}

// ParseQuery decodes a Request from Query's encoding and validates it; a
// parameter that names no field is an error naming it.
func ParseQuery(q url.Values) (Request, error) {
	var r Request
	policy := url.Values{}
	for k, v := range q {
		if !strings.HasPrefix(k, SharePrefix) {
			policy[k] = v
		}
	}
	if err := RequestFields.Decode(q, SharePrefix, &r); err != nil {
		var fe *servers.FieldError
		if errors.As(err, &fe) {
			fe.Of = "request"
		}
		return Request{}, err
	}
	p, err := servers.ParsePolicy(policy)
	if err != nil {
		return Request{}, err
	}
	r.Policy = p
	return r, r.Validate(true)
}

package harness

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/corslab/corslab/harness/model"
	"github.com/corslab/corslab/servers"
)

// Result is one request seen three ways: by the page's JavaScript, by the
// browser (CDP) and by the server (its journal).
type Result struct {
	Request    Request
	Token      string
	URL        string // the URL the page requested
	PageOrigin string // the origin of the page that sent it
	Page       PageView
	Browser    BrowserView
	Server     ServerView
	// Notes are things the harness noticed while correlating the views, such
	// as a view that did not complete in time.
	Notes []string
	// Timing is where the request's time went, measured from Go.
	Timing Timing
	// Predicted is what the model's Chrome profile said would happen, made before the request went out.
	Predicted model.Prediction
}

// Timing splits one Do into its phases.
type Timing struct {
	Page    time.Duration // from sending the description to the page until its callback's answer arrived
	Browser time.Duration // then until Chrome's events for the request were complete
	Server  time.Duration // then until the server's journal was final
}

// PageView is what the page's JavaScript saw.
type PageView struct {
	// Event is the callback that fired: "load", "error", "abort", "timeout",
	// or "exception" (the call threw) and "unsupported" (createCORSRequest returned null).
	Event        string            `json:"event"`
	Status       int               `json:"status"`
	StatusText   string            `json:"statusText"`
	ResponseText string            `json:"responseText"`
	Headers      map[string]string `json:"headers"`      // the response headers the page could read, lower-case names
	Transport    string            `json:"transport"`    // "XMLHttpRequest", "XDomainRequest" or "fetch"
	Error        string            `json:"error"`        // the exception or rejection message
	ResponseType string            `json:"responseType"` // fetch's response.type: "cors", "opaque", ...
	Millis       float64           `json:"ms"`           // time from send to callback, measured in the page
}

// BrowserView is what Chrome did, from the DevTools protocol.
type BrowserView struct {
	Preflight *Exchange // the OPTIONS preflight; nil when none went out
	Actual    *Exchange // the request itself; nil when the browser never started it
	// CorsError is Chrome's CorsError reason for blocking the request ("" when it did not).
	CorsError string
	// FailedParameter is the value Chrome blames, e.g. the header name or the ACAO value.
	FailedParameter string
	// ErrorText is the network error, e.g. "net::ERR_FAILED" or "net::ERR_CONNECTION_REFUSED".
	ErrorText string
}

// Exchange is one request the browser made and what came back.
type Exchange struct {
	RequestID       string
	Method          string
	URL             string
	Type            string            // resource type: "XHR", "Fetch", "Preflight", ...
	RequestHeaders  map[string]string // lower-case names; raw wire headers when Chrome reports them
	Status          int               // 0 when no response arrived
	ResponseHeaders map[string]string // lower-case names; repeated headers joined with "\n"
	Finished        bool              // loadingFinished or loadingFailed arrived
	Failed          bool
	Canceled        bool
	ErrorText       string
	CorsError       string
	FailedParameter string
	BlockedReason   string
	CookiesSent     []Cookie // cookies Chrome attached to the request
	CookiesBlocked  []Cookie // cookies Chrome held back, with its reasons
	SetCookieBlock  []Cookie // Set-Cookie lines Chrome refused to store, with its reasons
	Redirects       []Redirect
	// OnWire is true once Chrome reported the request's raw wire headers
	// (requestWillBeSentExtraInfo): it left the browser. A request that a
	// failed preflight stopped never does.
	OnWire bool
	seq    int
}

// Redirect is one redirect hop an exchange followed.
type Redirect struct {
	URL     string
	Status  int
	Headers map[string]string
}

// Cookie is a cookie as Chrome reports it, with the reasons it was blocked (if any).
type Cookie struct {
	Name    string
	Value   string
	Path    string
	Reasons []string
}

// ServerView is what the API origin received, from its journal.
type ServerView struct {
	// Recorded is false when the server has no journal corslab can read (a
	// URL outside corslab); Entries is then empty and says nothing.
	Recorded bool
	Entries  []servers.Entry
}

// Preflights returns the preflight requests the server received.
func (s ServerView) Preflights() []servers.Entry {
	var out []servers.Entry
	for _, e := range s.Entries {
		if e.IsPreflight() {
			out = append(out, e)
		}
	}
	return out
}

// Actuals returns the requests the server received that were not preflights.
func (s ServerView) Actuals() []servers.Entry {
	var out []servers.Entry
	for _, e := range s.Entries {
		if !e.IsPreflight() {
			out = append(out, e)
		}
	}
	return out
}

// Allowed reports whether the page got the response: its load callback fired and Chrome reported no CORS error.
func (r Result) Allowed() bool {
	return r.Page.Event == "load" && r.Browser.CorsError == ""
}

// Blocked reports whether Chrome blocked the request for a CORS reason.
func (r Result) Blocked() bool { return r.Browser.CorsError != "" }

// Preflighted reports whether a preflight went out for this request.
func (r Result) Preflighted() bool { return r.Browser.Preflight != nil }

// Executed reports whether the server received and answered the actual request.
func (r Result) Executed() bool {
	for _, e := range r.Server.Actuals() {
		if e.Status > 0 {
			return true
		}
	}
	return false
}

// CookiesSent returns the names of the cookies the actual request carried, as the server received them.
func (r Result) CookiesSent() []string {
	var names []string
	for _, e := range r.Server.Actuals() {
		for _, c := range e.Cookies {
			names = append(names, c.Name)
		}
	}
	return names
}

// Disagreements lists where the three views contradict each other; empty means they tell one story.
func (r Result) Disagreements() []string {
	var d []string
	b := r.Browser
	switch r.Page.Event {
	case "load":
		if b.CorsError != "" {
			d = append(d, "the page got a response but Chrome reports "+b.CorsError)
		}
		if b.Actual == nil || b.Actual.Failed {
			d = append(d, "the page got a response but Chrome shows no completed request")
		}
	case "error":
		if b.Actual != nil && b.Actual.Finished && !b.Actual.Failed && r.Page.Transport != "XDomainRequest" {
			d = append(d, "the page saw an error but Chrome finished the request without one")
		}
	}
	if !r.Server.Recorded {
		return d
	}
	serverPre := len(r.Server.Preflights())
	// A preflight Chrome stopped before the wire (Local Network Access) never reached the server.
	chromePre := b.Preflight != nil && !(b.Preflight.Failed && b.Preflight.Status == 0 && !b.Preflight.OnWire)
	if chromePre != (serverPre > 0) {
		d = append(d, fmt.Sprintf("Chrome shows %s but the server received %d", plural(chromePre, "a preflight", "no preflight"), serverPre))
	}
	if b.Actual != nil && b.Actual.Status > 0 && len(r.Server.Actuals()) == 0 && len(b.Actual.Redirects) == 0 {
		d = append(d, fmt.Sprintf("Chrome got status %d for the request but the server never received it", b.Actual.Status))
	}
	if r.Page.Event == "load" && !r.Executed() && len(r.Server.Actuals()) == 0 {
		d = append(d, "the page got a response but the server never received the request")
	}
	return d
}

func plural(ok bool, yes, no string) string {
	if ok {
		return yes
	}
	return no
}

// Verdict is one line: allowed, blocked with its reason, or failed with the network error.
func (r Result) Verdict() string {
	b := r.Browser
	switch {
	case b.CorsError != "":
		s := "✗ blocked  " + b.CorsError
		if b.FailedParameter != "" {
			s += " (" + b.FailedParameter + ")"
		}
		return s
	case r.Page.Event == "load" && r.Page.Transport == "XDomainRequest":
		return "✓ allowed  (XDomainRequest has no status)"
	case r.Page.Event == "load":
		return fmt.Sprintf("✓ allowed  status %d", r.Page.Status)
	case r.Page.Event == "abort" || r.Page.Event == "timeout":
		return "✗ " + r.Page.Event + "    the page ended it (" + b.ErrorText + "), not a CORS error"
	case b.ErrorText != "":
		return "✗ failed   " + b.ErrorText + " (not a CORS error)"
	default:
		return "✗ " + r.Page.Event
	}
}

// String is the exchange transcript: request, preflight, response, verdict and the three views.
func (r Result) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s %s from %s  (%s)\n", r.Request.method(), r.URL, r.PageOrigin, r.Request.Label())
	b := r.Browser
	if b.Preflight != nil {
		writeExchange(&sb, b.Preflight, true)
	} else if r.Server.Recorded && len(r.Server.Preflights()) == 0 && b.Actual != nil && b.Actual.Finished {
		sb.WriteString("  (no preflight went out)\n")
	}
	if b.Actual != nil {
		writeExchange(&sb, b.Actual, false)
	} else {
		sb.WriteString("  (the browser never sent the request)\n")
	}
	sb.WriteString("  " + r.Verdict() + "\n")
	fmt.Fprintf(&sb, "  page: %s;  server: %s\n", r.pageLine(), r.serverLine())
	for _, d := range r.Disagreements() {
		sb.WriteString("  ! views disagree: " + d + "\n")
	}
	sb.WriteString("  model predicted: " + r.Predicted.String() + "\n")
	for _, d := range r.ModelDisagreements() {
		sb.WriteString("  ! model disagrees: " + d + "\n")
	}
	for _, n := range r.Notes {
		sb.WriteString("  note: " + n + "\n")
	}
	return sb.String()
}

func (r Result) pageLine() string {
	p := r.Page
	s := "on" + p.Event
	if p.Transport == "fetch" {
		s = "fetch " + map[bool]string{true: "resolved", false: "rejected"}[p.Event == "load"]
		if p.Event != "load" && p.Event != "error" {
			s = "fetch " + p.Event
		}
	}
	s += fmt.Sprintf(", status %d", p.Status)
	if p.ResponseText != "" {
		s += fmt.Sprintf(", text %q", truncate(p.ResponseText, 40))
	} else {
		s += `, text ""`
	}
	if p.Error != "" {
		s += ", error " + fmt.Sprintf("%q", p.Error)
	}
	return s
}

func (r Result) serverLine() string {
	if !r.Server.Recorded {
		return "not recorded (the server is not one of corslab's origins)"
	}
	if len(r.Server.Entries) == 0 {
		return "received nothing"
	}
	var parts []string
	for _, e := range r.Server.Entries {
		st := fmt.Sprint(e.Status)
		if e.Status == -1 {
			st = "client left"
		}
		part := e.Method + " " + st
		if len(e.Cookies) > 0 {
			var names []string
			for _, c := range e.Cookies {
				names = append(names, c.Name)
			}
			part += " cookies " + strings.Join(names, ",")
		}
		parts = append(parts, part)
	}
	return "received " + strings.Join(parts, ", ")
}

// headerOrder lists the headers a transcript shows first, in this order.
var headerOrder = []string{
	"origin", "access-control-request-method", "access-control-request-headers",
	"access-control-allow-origin", "access-control-allow-credentials", "access-control-allow-methods",
	"access-control-allow-headers", "access-control-max-age", "access-control-expose-headers",
	"location", "set-cookie", "cookie",
}

func writeExchange(sb *strings.Builder, e *Exchange, preflight bool) {
	for _, h := range e.Redirects {
		fmt.Fprintf(sb, "  → %-8s %s\n", e.Method, h.URL)
		fmt.Fprintf(sb, "  ← %-8d %s\n", h.Status, corsHeaders(h.Headers, false))
	}
	if !preflight && !e.OnWire && e.Finished && e.Status == 0 {
		fmt.Fprintf(sb, "  → %-8s (never sent: Chrome stopped it before the wire)\n", e.Method)
		return
	}
	fmt.Fprintf(sb, "  → %-8s %s\n", e.Method, corsHeaders(e.RequestHeaders, true))
	if len(e.CookiesBlocked) > 0 {
		var bl []string
		for _, c := range e.CookiesBlocked {
			bl = append(bl, c.Name+" ("+strings.Join(c.Reasons, ", ")+")")
		}
		fmt.Fprintf(sb, "    cookies held back by Chrome: %s\n", strings.Join(bl, "; "))
	}
	switch {
	case e.Status > 0:
		fmt.Fprintf(sb, "  ← %-8d %s\n", e.Status, corsHeaders(e.ResponseHeaders, false))
	case e.Failed && e.ErrorText != "" && e.CorsError == "":
		fmt.Fprintf(sb, "  ← %s\n", e.ErrorText)
	case !e.Finished && !preflight:
		sb.WriteString("  ← (no answer)\n")
	}
	for _, c := range e.SetCookieBlock {
		fmt.Fprintf(sb, "    Set-Cookie refused by Chrome: %s (%s)\n", c.Name, strings.Join(c.Reasons, ", "))
	}
}

// corsHeaders formats the CORS-relevant headers of h in a fixed order, then any X- headers.
func corsHeaders(h map[string]string, request bool) string {
	parts := HeaderLines(h, request)
	if len(parts) == 0 {
		return "(no CORS headers)"
	}
	return strings.Join(parts, ", ")
}

// HeaderLines returns the headers of h a transcript shows, as "Name: value"
// lines: the CORS-relevant ones in a fixed order, then X- headers and (for a
// request) the headers the page set; repeated values are joined with " | ".
func HeaderLines(h map[string]string, request bool) []string {
	var parts []string
	seen := map[string]bool{}
	for _, k := range headerOrder {
		if v, ok := h[k]; ok {
			parts = append(parts, http.CanonicalHeaderKey(k)+": "+strings.ReplaceAll(v, "\n", " | "))
			seen[k] = true
		}
	}
	var rest []string
	for k := range h {
		if !seen[k] && (strings.HasPrefix(k, "x-") || request && isCustomRequestHeader(k)) {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		parts = append(parts, http.CanonicalHeaderKey(k)+": "+h[k])
	}
	return parts
}

// isCustomRequestHeader reports whether a request header was set by the page rather than by Chrome.
func isCustomRequestHeader(k string) bool {
	switch k {
	case "accept", "accept-encoding", "accept-language", "connection", "host", "referer",
		"user-agent", "content-length", "sec-fetch-site", "sec-fetch-mode", "sec-fetch-dest",
		"sec-ch-ua", "sec-ch-ua-mobile", "sec-ch-ua-platform", "pragma", "cache-control":
		return false
	}
	return !strings.HasPrefix(k, ":")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// NeedsPreflight reports whether the Fetch standard requires a preflight for this request.
func (r Result) NeedsPreflight() bool {
	return model.NeedsPreflight(r.Request.method(), r.Request.Headers, r.Request.UploadListener, r.Request.Mode)
}

// PreflightFromCache reports whether a preflight was needed but none went out:
// Chrome answered it from its preflight cache. No CDP event marks a cache
// hit; the absence of the OPTIONS exchange in both the browser's and the
// server's view is the signal.
func (r Result) PreflightFromCache() bool {
	return r.NeedsPreflight() && r.Browser.Preflight == nil && len(r.Server.Preflights()) == 0 &&
		r.Browser.Actual != nil && r.Browser.Actual.OnWire
}

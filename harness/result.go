package harness

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/corslab/corslab/harness/model"
	"github.com/corslab/corslab/harness/verdict"
	"github.com/corslab/corslab/servers"
)

// Result is one request seen three ways: by the page's JavaScript, by the
// browser (its own protocol: CDP, WebDriver BiDi, the Web Inspector) and by
// the server (its journal).
type Result struct {
	// Engine is the browser engine that ran the request.
	Engine     verdict.Engine
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
	// Predicted is what the model's profile of the engine said would happen, made before the request went out.
	Predicted model.Prediction
}

// Timing splits one Do into its phases.
type Timing struct {
	Page    time.Duration // from sending the description to the page until its callback's answer arrived
	Browser time.Duration // then until the engine's events for the request were complete
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

// BrowserView is what the browser did, from its own protocol.
type BrowserView struct {
	Preflight *Exchange // the OPTIONS preflight; nil when none went out
	Actual    *Exchange // the request itself; nil when the browser never started it
	// Reason is the common reason the engine blocked the request for ("" when it did not).
	Reason verdict.Reason
	// EngineReason is the engine's own words for it: Chromium's CorsError,
	// Firefox's console category, WebKit's console message.
	EngineReason string
	// FailedParameter is the value the engine blames, e.g. the header name or the ACAO value.
	FailedParameter string
	// ErrorText is the network error, e.g. "net::ERR_FAILED" or "net::ERR_CONNECTION_REFUSED".
	ErrorText string
	// Refined says how corslab narrowed a coarse engine reason to Reason (the
	// Fetch standard's CORS check on the Allow-Origin the server sent), ""
	// when the engine named Reason itself.
	Refined string
	// Messages are the engine's console messages about the request, in order.
	Messages []string
	// PreflightFromJournal is true when the engine reports no preflights at
	// all (WebKit's inspector): Preflight then is the server's record of it.
	PreflightFromJournal bool
	// Unseen says why the engine reported nothing of this request (Chromium
	// does not show a dedicated worker's requests to the page's session);
	// "" when it reported what it saw.
	Unseen string
	// Instance is the browser that ran the request: its binary, or the
	// DevTools URL of an attached one (Options.RemoteURL may name several).
	Instance string
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
	EngineReason    string // the engine's reason for failing this exchange, in its own words
	FailedParameter string
	BlockedReason   string
	CookiesSent     []Cookie // cookies the browser attached to the request
	CookiesBlocked  []Cookie // cookies the browser held back, with its reasons
	SetCookieBlock  []Cookie // Set-Cookie lines the browser refused to store, with its reasons
	Redirects       []Redirect
	// FromCache is true when the browser answered the request from its HTTP
	// cache: the server was not asked, and the response is an earlier one.
	FromCache bool
	// OnWire is true once the engine reported that the request left the
	// browser (Chromium: its raw wire headers). A request that a failed
	// preflight stopped never does.
	OnWire bool
	// Seq orders the exchanges an engine saw; engines use it to pick the
	// latest exchange of a token.
	Seq int
}

// Redirect is one redirect hop an exchange followed.
type Redirect struct {
	URL     string
	Status  int
	Headers map[string]string
}

// Cookie is a cookie as the browser reports it, with the reasons it was blocked (if any).
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
	// Marked is true when the server marks its application (servers.App;
	// corslab's own API does): an entry's AppRan then says whether the
	// application ran, not only whether something answered.
	Marked bool
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

// Verdict is what happened to the request, read from the three views: the
// engine's CORS reason when it blocked the request, else what the page saw.
func (r Result) Verdict() verdict.Verdict {
	b, p := r.Browser, r.Page
	switch {
	case b.Reason != "":
		return verdict.Verdict{Outcome: verdict.Blocked, Reason: b.Reason, Parameter: b.FailedParameter}
	case p.Event == "load" && p.ResponseType == "opaque":
		return verdict.Verdict{Outcome: verdict.Opaque}
	case p.Event == "load":
		return verdict.Verdict{Outcome: verdict.Allowed}
	case p.Event == "abort":
		return verdict.Verdict{Outcome: verdict.Aborted, Parameter: b.ErrorText}
	case p.Event == "timeout":
		return verdict.Verdict{Outcome: verdict.TimedOut, Parameter: b.ErrorText}
	case p.Event == "unsupported":
		return verdict.Verdict{Outcome: verdict.Unsupported}
	case p.Event == "exception":
		return verdict.Verdict{Outcome: verdict.Threw, Parameter: p.Error}
	case b.Unseen != "":
		return verdict.Verdict{Outcome: verdict.Failed, Parameter: "the browser's reason is unseen: " + b.Unseen}
	}
	return verdict.Verdict{Outcome: verdict.Failed, Parameter: b.ErrorText}
}

// Allowed reports whether the page read the response (its verdict is allowed).
func (r Result) Allowed() bool { return r.Verdict().Outcome == verdict.Allowed }

// Blocked reports whether the browser blocked the request for a CORS reason.
func (r Result) Blocked() bool { return r.Browser.Reason != "" }

// Preflighted reports whether a preflight went out for this request.
func (r Result) Preflighted() bool { return r.Browser.Preflight != nil }

// Executed reports whether the server ran the actual request: its
// application ran, when the server marks it (servers.App), else something
// answered it (corslab cannot tell a middleware's answer from your
// application's then).
func (r Result) Executed() bool {
	if ran, known := r.AppRan(); known {
		return ran
	}
	return r.Answered()
}

// Answered reports whether the server answered the actual request (any
// status, from a middleware or the application).
func (r Result) Answered() bool {
	for _, e := range r.Server.Actuals() {
		if e.Status > 0 {
			return true
		}
	}
	return false
}

// AppRan reports whether the server's application ran the actual request;
// known is false when the server does not mark its application (servers.App).
func (r Result) AppRan() (ran, known bool) {
	if !r.Server.Recorded || !r.Server.Marked {
		return false, false
	}
	for _, e := range r.Server.Actuals() {
		if e.AppRan {
			return true, true
		}
	}
	return false, true
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

// browserName is the engine as transcripts name it.
func (r Result) browserName() string {
	if r.Engine == "" {
		return "the browser"
	}
	return r.Engine.Title()
}

// Disagreements lists where the three views contradict each other; empty means they tell one story.
func (r Result) Disagreements() []string {
	var d []string
	b := r.Browser
	name := r.browserName()
	if b.Unseen != "" {
		return nil // nothing from the browser to contradict
	}
	switch r.Page.Event {
	case "load":
		if b.Reason != "" {
			d = append(d, "the page got a response but "+name+" reports "+string(b.Reason))
		}
		if b.Actual == nil || b.Actual.Failed {
			d = append(d, "the page got a response but "+name+" shows no completed request")
		}
	case "error":
		if b.Actual != nil && b.Actual.Finished && !b.Actual.Failed && b.Reason == "" && r.Page.Transport != "XDomainRequest" {
			d = append(d, "the page saw an error but "+name+" finished the request without one")
		}
	}
	if !r.Server.Recorded {
		return d
	}
	serverPre := len(r.Server.Preflights())
	// A preflight the browser stopped before the wire (Local Network Access) never reached the server.
	enginePre := b.Preflight != nil && !(b.Preflight.Failed && b.Preflight.Status == 0 && !b.Preflight.OnWire)
	if !b.PreflightFromJournal && enginePre != (serverPre > 0) {
		d = append(d, fmt.Sprintf("%s shows %s but the server received %d", name, plural(enginePre, "a preflight", "no preflight"), serverPre))
	}
	if b.Actual != nil && b.Actual.Status > 0 && len(r.Server.Actuals()) == 0 && len(b.Actual.Redirects) == 0 && !b.Actual.FromCache &&
		r.rejectedBeforeHandlers() == "" {
		d = append(d, fmt.Sprintf("%s got status %d for the request but the server never received it", name, b.Actual.Status))
	}
	if r.Page.Event == "load" && len(r.Server.Actuals()) == 0 && (b.Actual == nil || !b.Actual.FromCache) {
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

// verdictLine is the transcript's verdict line: the verdict, with the status the page read when it read one.
func (r Result) verdictLine() string {
	v := r.Verdict()
	switch {
	case v.Outcome == verdict.Allowed && r.Page.Transport == "XDomainRequest":
		return v.String() + "  (XDomainRequest has no status)"
	case v.Outcome == verdict.Allowed:
		return fmt.Sprintf("%s  status %d", v.String(), r.Page.Status)
	case v.Outcome == verdict.Blocked && r.Browser.EngineReason != "" && r.Browser.EngineReason != string(v.Reason):
		return v.String() + "  (" + r.Engine.Title() + ": " + r.Browser.EngineReason + ")"
	}
	return v.String()
}

// String is the exchange transcript: request, preflight, response, verdict and the three views.
func (r Result) String() string {
	var sb strings.Builder
	if r.Engine != "" {
		sb.WriteString("[" + string(r.Engine) + "] ")
	}
	fmt.Fprintf(&sb, "%s %s from %s  (%s)\n", r.Request.method(), r.URL, r.PageOrigin, r.Request.Label())
	b := r.Browser
	name := r.browserName()
	if b.Preflight != nil {
		if b.PreflightFromJournal {
			fmt.Fprintf(&sb, "  (%s reports no preflights: this one is the server's record)\n", name)
		}
		writeExchange(&sb, name, b.Preflight, true)
	} else if r.Server.Recorded && len(r.Server.Preflights()) == 0 && b.Actual != nil && b.Actual.Finished {
		sb.WriteString("  (no preflight went out)\n")
	}
	if b.Actual != nil {
		writeExchange(&sb, name, b.Actual, false)
	} else {
		sb.WriteString("  (the browser never sent the request)\n")
	}
	sb.WriteString("  " + r.verdictLine() + "\n")
	if b.Refined != "" {
		sb.WriteString("  reason: " + b.Refined + "\n")
	}
	if b.Unseen != "" {
		sb.WriteString("  unseen: " + b.Unseen + "\n")
	}
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
		if r.Server.Marked && !e.IsPreflight() && e.Status != 0 {
			part += plural(e.AppRan, " (the app ran)", " (answered; the app did not run)")
		}
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

func writeExchange(sb *strings.Builder, browser string, e *Exchange, preflight bool) {
	for _, h := range e.Redirects {
		fmt.Fprintf(sb, "  → %-8s %s\n", e.Method, h.URL)
		fmt.Fprintf(sb, "  ← %-8d %s\n", h.Status, corsHeaders(h.Headers, false))
	}
	if e.FromCache {
		fmt.Fprintf(sb, "  → %-8s (answered from %s's HTTP cache: the server was not asked)\n", e.Method, browser)
		if e.Status > 0 {
			fmt.Fprintf(sb, "  ← %-8d %s  (the cached response)\n", e.Status, corsHeaders(e.ResponseHeaders, false))
		}
		return
	}
	if !preflight && !e.OnWire && e.Finished && e.Status == 0 {
		fmt.Fprintf(sb, "  → %-8s (never sent: %s stopped it before the wire)\n", e.Method, browser)
		return
	}
	fmt.Fprintf(sb, "  → %-8s %s\n", e.Method, corsHeaders(e.RequestHeaders, true))
	if len(e.CookiesBlocked) > 0 {
		var bl []string
		for _, c := range e.CookiesBlocked {
			bl = append(bl, c.Name+" ("+strings.Join(c.Reasons, ", ")+")")
		}
		fmt.Fprintf(sb, "    cookies held back by %s: %s\n", browser, strings.Join(bl, "; "))
	}
	switch {
	case e.Status > 0:
		fmt.Fprintf(sb, "  ← %-8d %s\n", e.Status, corsHeaders(e.ResponseHeaders, false))
	case e.Failed && e.ErrorText != "" && e.EngineReason == "":
		fmt.Fprintf(sb, "  ← %s\n", e.ErrorText)
	case !e.Finished && !preflight:
		sb.WriteString("  ← (no answer)\n")
	}
	for _, c := range e.SetCookieBlock {
		fmt.Fprintf(sb, "    Set-Cookie refused by %s: %s (%s)\n", browser, c.Name, strings.Join(c.Reasons, ", "))
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

// isCustomRequestHeader reports whether a request header was set by the page rather than by the browser.
func isCustomRequestHeader(k string) bool {
	switch k {
	case "accept", "accept-encoding", "accept-language", "connection", "host", "referer",
		"user-agent", "content-length", "sec-fetch-site", "sec-fetch-mode", "sec-fetch-dest",
		"sec-ch-ua", "sec-ch-ua-mobile", "sec-ch-ua-platform", "pragma", "cache-control":
		return false
	}
	return !strings.HasPrefix(k, ":")
}

// truncate shortens s to n characters and an ellipsis.
func truncate(s string, n int) string {
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// NeedsPreflight reports whether the Fetch standard requires a preflight for this request.
func (r Result) NeedsPreflight() bool {
	return model.NeedsPreflight(r.Request.method(), r.Request.Headers, r.Request.UploadListener, r.Request.Mode)
}

// PreflightFromCache reports whether a preflight was needed but none went out:
// the browser answered it from its preflight cache. No engine reports a cache
// hit; the absence of the OPTIONS exchange in both the browser's and the
// server's view is the signal.
func (r Result) PreflightFromCache() bool {
	return r.NeedsPreflight() && r.Browser.Preflight == nil && len(r.Server.Preflights()) == 0 &&
		r.Browser.Actual != nil && r.Browser.Actual.OnWire
}

package harness

import (
	"fmt"
	"net/http"

	"github.com/corslab/corslab/harness/verdict"
	"github.com/corslab/corslab/servers"
)

// Scenario is one behaviour to show or check: where the page runs, what the
// browser holds before the first request, and an ordered list of sends, each
// a Request and what must hold for its Result. The article's tour, the
// expectations files, the lab's presets and share links, the bench workload,
// the matrix and the specs' tables are all Scenarios, so a YAML case, a lab
// preset and a spec entry mean exactly the same thing.
type Scenario struct {
	// ID is a short name, e.g. "A7" for a step of the article's tour.
	ID string
	// Name says what the scenario shows, in one sentence.
	Name string
	// Say explains the behaviour in a line (the tour's narration).
	Say string
	// Deviations say where an engine departs from what Say describes (the
	// article or the Fetch standard), one line per engine.
	Deviations map[verdict.Engine]string
	// From is the page origin the requests come from: "" is corslab's own
	// page origin, "null" a sandboxed page of it (Origin: null), and any
	// scheme://host[:port] an origin the page runs as (impersonated).
	From string
	// Cookies are Set-Cookie lines stored in the browser, for the first
	// send's URL, before the first send (a first-party cookie of the API).
	Cookies []string
	// Grant are permissions granted to the page origin before the first send,
	// e.g. harness.LoopbackNetwork for Local Network Access.
	Grant []string
	// Fresh runs the scenario in a new browser context and tab, as a browser
	// just started would, instead of a warm tab: for behaviour that depends
	// on what a tab did before (Firefox's first preflights in a tab).
	Fresh bool
	// Sends are the requests, in order.
	Sends []Send
	// Line is the scenario's line in the file it was read from (0 when none).
	Line int
}

// Send is one request of a Scenario and what must hold for its Result.
type Send struct {
	Request Request
	// Reuse is the 1-based index of an earlier send whose URL this one
	// reuses (its token: the same preflight-cache entry and cookie path):
	// "send it again". 0 means a URL of its own.
	Reuse int
	// Expect is what must hold in every engine.
	Expect Expect
	// For replaces, per engine, the fields of Expect it sets: an engine that
	// departs (e.g. Firefox sends its first preflights in a tab again to an IP-literal host).
	For map[verdict.Engine]Expect
}

// ExpectIn is what must hold for the send's Result in engine e: Expect, with
// the fields For[e] sets replacing Expect's.
func (s Send) ExpectIn(e verdict.Engine) Expect {
	o, ok := s.For[e]
	if !ok {
		return s.Expect
	}
	return s.Expect.With(o)
}

// Expect is what must hold for one Result; a zero field is not checked.
type Expect struct {
	// Outcome is the verdict's outcome (allowed, blocked, failed, …).
	Outcome verdict.Outcome
	// Reason is the common reason of a blocked request.
	Reason verdict.Reason
	// Parameter is the value the browser must blame (with Reason).
	Parameter *string
	// Preflight says whether a preflight must go out.
	Preflight *bool
	// PreflightCached says whether the preflight must be answered from the
	// browser's preflight cache (a send that reuses an earlier send's URL).
	PreflightCached *bool
	// PreflightAsks is what the preflight must ask for.
	PreflightAsks *PreflightAsk
	// FromPageOrigin requires the actual request to carry Origin: the page's origin.
	FromPageOrigin bool
	// Executed says whether the server must have run the actual request:
	// true with a blocked outcome is "blocked but executed".
	Executed *bool
	// AppRan says whether the server's application (servers.App) must have
	// run the actual request, as opposed to a middleware answering it.
	AppRan *bool
	// Readable are response headers the page must be able to read.
	Readable []string
	// Unreadable are response headers the page must not be able to read.
	Unreadable []string
	// CookiesSent are the cookie names the actual request must carry; a
	// non-nil empty list means none.
	CookiesSent []string
	// Page is the callback and transport the page must end with.
	Page *PageEnd
	// Text is the response text the page must read.
	Text *string
	// Status is the status the page must read (0: not checked).
	Status int
	// VaryOrigin says whether the actual response must carry Vary: Origin
	// (a response that reflects the origin needs it, or a cache can serve
	// one origin's answer to another).
	VaryOrigin *bool
}

// PreflightAsk is what a preflight asks: Access-Control-Request-Method and -Headers.
type PreflightAsk struct {
	Method  string
	Headers string // comma-separated, as the browser sends them
}

// PageEnd is how the page's request ended: its callback and transport.
type PageEnd struct {
	Event     string // load, error, abort, timeout, unsupported, exception
	Transport string // XMLHttpRequest, XDomainRequest, fetch; "" for none
}

// With returns e with every field o sets replacing e's.
func (e Expect) With(o Expect) Expect {
	if o.Outcome != "" {
		e.Outcome = o.Outcome
	}
	if o.Reason != "" {
		e.Reason = o.Reason
	}
	if o.Parameter != nil {
		e.Parameter = o.Parameter
	}
	if o.Preflight != nil {
		e.Preflight = o.Preflight
	}
	if o.PreflightCached != nil {
		e.PreflightCached = o.PreflightCached
	}
	if o.PreflightAsks != nil {
		e.PreflightAsks = o.PreflightAsks
	}
	if o.FromPageOrigin {
		e.FromPageOrigin = true
	}
	if o.Executed != nil {
		e.Executed = o.Executed
	}
	if o.AppRan != nil {
		e.AppRan = o.AppRan
	}
	if o.Readable != nil {
		e.Readable = o.Readable
	}
	if o.Unreadable != nil {
		e.Unreadable = o.Unreadable
	}
	if o.CookiesSent != nil {
		e.CookiesSent = o.CookiesSent
	}
	if o.Page != nil {
		e.Page = o.Page
	}
	if o.Text != nil {
		e.Text = o.Text
	}
	if o.Status != 0 {
		e.Status = o.Status
	}
	if o.VaryOrigin != nil {
		e.VaryOrigin = o.VaryOrigin
	}
	return e
}

// Validate reports the first thing in the scenario that cannot be run.
func (sc Scenario) Validate(allowRemote bool) error {
	if len(sc.Sends) == 0 {
		return fmt.Errorf("scenario %q has no sends", sc.Name)
	}
	if sc.From != "" && sc.From != "null" {
		if _, err := CheckPageOrigin(sc.From); err != nil {
			return fmt.Errorf("scenario %q: %w", sc.Name, err)
		}
	}
	for i, s := range sc.Sends {
		if s.Reuse < 0 || s.Reuse > i {
			return fmt.Errorf("scenario %q, send %d: reuse %d must name an earlier send (1 to %d)", sc.Name, i+1, s.Reuse, i)
		}
		if s.Request.Token != "" {
			return fmt.Errorf("scenario %q, send %d: a scenario's request has no token: reuse an earlier send's URL with Reuse", sc.Name, i+1)
		}
		if err := s.Request.Validate(allowRemote); err != nil {
			return fmt.Errorf("scenario %q, send %d: %w", sc.Name, i+1, err)
		}
		if s.Expect.PreflightCached != nil && s.Reuse == 0 {
			return fmt.Errorf("scenario %q, send %d: preflight-cached needs a send that reuses an earlier send's URL", sc.Name, i+1)
		}
		for e := range s.For {
			if _, err := verdict.ParseEngines(string(e)); err != nil {
				return fmt.Errorf("scenario %q, send %d: %w", sc.Name, i+1, err)
			}
		}
	}
	return nil
}

// Title is the scenario's ID and name, e.g. "A1 a simple GET carries Origin".
func (sc Scenario) Title() string {
	if sc.ID == "" {
		return sc.Name
	}
	return sc.ID + " " + sc.Name
}

// Isolated reports whether the scenario needs a browser context of its own:
// it asks for one (Fresh), stores cookies, grants a permission, or sends credentials to a server
// whose cookies are not scoped to the request's token (the answer to a
// credentialed request may store a cookie, and the request would carry the
// cookies other scenarios left). corslab's own API scopes the cookies it
// sets to the token's path, unless a policy names a Path itself. Any other
// scenario can share a warm tab of its page origin, kept apart by its tokens.
func (sc Scenario) Isolated() bool {
	if sc.Fresh || len(sc.Cookies) > 0 || len(sc.Grant) > 0 {
		return true
	}
	for _, s := range sc.Sends {
		if s.Request.Credentials && (s.Request.URL != "" || setsOwnPath(s.Request.Policy)) {
			return true
		}
	}
	return false
}

// setsOwnPath reports whether a policy sets a cookie with a Path of its
// own, which reaches beyond its token.
func setsOwnPath(p servers.Policy) bool {
	for _, pp := range []*servers.Policy{&p, p.Preflight, p.Later} {
		if pp == nil {
			continue
		}
		for _, c := range pp.SetCookie {
			if hc, err := http.ParseSetCookie(c); err == nil && hc.Path != "" {
				return true
			}
		}
	}
	return false
}

// Bool returns a pointer to b, for the Expect fields that take a *bool.
func Bool(b bool) *bool { return &b }

// Names returns its arguments as a list that is never nil, for Expect.CookiesSent (none: Names()).
func Names(names ...string) []string {
	if names == nil {
		return []string{}
	}
	return names
}

// Str returns a pointer to s, for the Expect fields that take a *string.
func Str(s string) *string { return &s }

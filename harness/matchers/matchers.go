// Package matchers holds gomega matchers over harness.Result, for a Result of
// any engine. Every matcher first checks that the page, browser and server
// views agree, and every failure message is the exchange transcript (which
// names the engine). Compile turns a harness.Expect (expectations as data)
// into these matchers, and Check judges a Scenario's Results with them.
package matchers

import (
	"fmt"
	"slices"
	"strings"

	"github.com/onsi/gomega/types"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/verdict"
)

// resultMatcher is a matcher defined by one check over a Result.
type resultMatcher struct {
	want  string                                // what the matcher asserts, for messages
	check func(r harness.Result) (bool, string) // ok, and why not
	why   string
}

func (m *resultMatcher) Match(actual any) (bool, error) {
	r, err := asResult(actual)
	if err != nil {
		return false, err
	}
	if d := r.Disagreements(); len(d) > 0 {
		// An error, not a mismatch: it fails To and NotTo alike, so a negated
		// matcher cannot pass on views that contradict each other.
		return false, fmt.Errorf("the three views disagree: %s\n\n%s", strings.Join(d, "; "), indent(r.String()))
	}
	ok, why := m.check(r)
	m.why = why
	return ok, nil
}

func (m *resultMatcher) FailureMessage(actual any) string {
	return m.message(actual, "Expected the request to "+m.want)
}

func (m *resultMatcher) NegatedFailureMessage(actual any) string {
	return m.message(actual, "Expected the request NOT to "+m.want)
}

func (m *resultMatcher) message(actual any, head string) string {
	r, err := asResult(actual)
	if err != nil {
		return err.Error()
	}
	msg := head
	if m.why != "" {
		msg += ", but " + m.why
	}
	return msg + "\n\n" + indent(r.String())
}

func asResult(actual any) (harness.Result, error) {
	switch r := actual.(type) {
	case harness.Result:
		return r, nil
	case *harness.Result:
		if r == nil {
			return harness.Result{}, fmt.Errorf("expected a harness.Result, got a nil *harness.Result")
		}
		return *r, nil
	}
	return harness.Result{}, fmt.Errorf("expected a harness.Result, got %T", actual)
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}

// BeAllowed succeeds when the page read the response: its load callback
// fired with a readable (not opaque) response, the browser reported no CORS
// error, and the server answered the request (or the browser's HTTP cache did).
func BeAllowed() types.GomegaMatcher {
	return &resultMatcher{want: "be allowed", check: func(r harness.Result) (bool, string) {
		switch v := r.Verdict(); {
		case r.Page.Event != "load":
			return false, "the page saw on" + r.Page.Event
		case r.Browser.Reason != "":
			return false, browser(r) + " blocked it: " + string(r.Browser.Reason)
		case v.Outcome != verdict.Allowed:
			return false, "the verdict is " + oneLine(v.String())
		case r.Server.Recorded && !r.Answered() && !fromHTTPCache(r):
			return false, "the server never answered it"
		}
		return true, ""
	}}
}

// browser names the engine of r as failure messages say it.
func browser(r harness.Result) string {
	if r.Engine == "" {
		return "the browser"
	}
	return r.Engine.Title()
}

func fromHTTPCache(r harness.Result) bool {
	return r.Browser.Actual != nil && r.Browser.Actual.FromCache
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// BeBlockedWith succeeds when the browser blocked the request for reason (a
// common reason: Chromium's CorsError names), optionally blaming param, and
// the page saw what a CORS failure looks like from JavaScript: an error,
// status 0, no text.
func BeBlockedWith(reason verdict.Reason, param ...string) types.GomegaMatcher {
	want := "be blocked with " + string(reason)
	if len(param) > 0 {
		want += " (" + param[0] + ")"
	}
	return &resultMatcher{want: want, check: func(r harness.Result) (bool, string) {
		switch {
		case r.Browser.Reason == "":
			return false, browser(r) + " reported no CORS error (" + oneLine(r.Verdict().String()) + ")"
		case r.Browser.Reason != reason:
			return false, browser(r) + " reported " + engineWords(r)
		case len(param) > 0 && r.Browser.FailedParameter != param[0]:
			return false, fmt.Sprintf("%s blamed %q", browser(r), r.Browser.FailedParameter)
		case !pageSawFailure(r.Page):
			return false, fmt.Sprintf("the page saw on%s, status %d, text %q", r.Page.Event, r.Page.Status, r.Page.ResponseText)
		}
		return true, ""
	}}
}

// pageSawFailure is what a blocked request looks like to JavaScript.
func pageSawFailure(p harness.PageView) bool {
	return p.Event == "error" && p.Status == 0 && p.ResponseText == ""
}

// engineWords is the reason r's engine gave, with its own words when they differ from the common reason.
func engineWords(r harness.Result) string {
	s := string(r.Browser.Reason)
	if w := r.Browser.EngineReason; w != "" && w != s {
		s += " (its words: " + w + ")"
	}
	return s
}

// FailWithoutCORSError succeeds when the request failed for a network reason
// (errorText, e.g. "net::ERR_CONNECTION_REFUSED") and not for CORS, though the page cannot tell the difference.
func FailWithoutCORSError(errorText string) types.GomegaMatcher {
	return &resultMatcher{want: "fail with " + errorText + " and no CORS error", check: func(r harness.Result) (bool, string) {
		switch {
		case r.Browser.Reason != "":
			return false, browser(r) + " reported a CORS error: " + engineWords(r)
		case r.Browser.ErrorText != errorText:
			return false, fmt.Sprintf("%s's error was %q", browser(r), r.Browser.ErrorText)
		case !pageSawFailure(r.Page):
			return false, "the page saw on" + r.Page.Event
		}
		return true, ""
	}}
}

// BePreflighted succeeds when a preflight OPTIONS went out, seen by the browser and received by the server.
func BePreflighted() types.GomegaMatcher {
	return &resultMatcher{want: "be preflighted", check: func(r harness.Result) (bool, string) {
		if r.Browser.Preflight == nil {
			return false, browser(r) + " sent no preflight"
		}
		if r.Server.Recorded && len(r.Server.Preflights()) == 0 {
			return false, "the server received no preflight"
		}
		return true, ""
	}}
}

// UseCachedPreflight succeeds when the request needed a preflight and none
// went out: the browser answered it from its preflight cache.
func UseCachedPreflight() types.GomegaMatcher {
	return &resultMatcher{want: "be answered from the preflight cache", check: func(r harness.Result) (bool, string) {
		switch {
		case !r.NeedsPreflight():
			return false, "the request needs no preflight, so the cache says nothing"
		case r.Browser.Preflight != nil:
			return false, "a preflight went out"
		case !r.PreflightFromCache():
			return false, "the request did not go out"
		}
		return true, ""
	}}
}

// BeExecutedDespiteBlock succeeds when the browser refused the response to
// the page but the server had already received and answered the request:
// CORS protects the reader, not the server.
func BeExecutedDespiteBlock() types.GomegaMatcher {
	return &resultMatcher{want: "be executed by the server although the page was refused", check: func(r harness.Result) (bool, string) {
		switch {
		case !r.Server.Recorded:
			return false, "the server's journal is not available"
		case r.Browser.Reason == "":
			return false, browser(r) + " did not block it"
		case !r.Executed():
			if ran, known := r.AppRan(); known && !ran && r.Answered() {
				return false, "the server answered, but its application never ran (servers.App)"
			}
			return false, "the server never answered the request"
		}
		return true, ""
	}}
}

// SendCookies succeeds when the server received exactly these cookie names on the actual request (none when empty).
func SendCookies(names ...string) types.GomegaMatcher {
	want := "carry no cookies"
	if len(names) > 0 {
		want = "carry cookies " + strings.Join(names, ", ")
	}
	return &resultMatcher{want: want, check: func(r harness.Result) (bool, string) {
		got := r.CookiesSent()
		a, b := slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(names))
		if !slices.Equal(a, b) {
			return false, fmt.Sprintf("the server received cookies %v", got)
		}
		return true, ""
	}}
}

// ComeFromPageOrigin succeeds when the actual request carried Origin equal to
// the page's origin (scheme, host, port, no trailing slash), in the browser's and the server's view.
func ComeFromPageOrigin() types.GomegaMatcher {
	return &resultMatcher{want: "carry the page's origin in Origin", check: func(r harness.Result) (bool, string) {
		if a := r.Browser.Actual; a == nil || a.RequestHeaders["origin"] != r.PageOrigin {
			return false, browser(r) + "'s request did not carry Origin: " + r.PageOrigin
		}
		if r.Server.Recorded {
			acts := r.Server.Actuals()
			if len(acts) == 0 || acts[0].Origin() != r.PageOrigin {
				return false, "the server did not receive Origin: " + r.PageOrigin
			}
		}
		return true, ""
	}}
}

// SendPreflightWith succeeds when the preflight asked for method and the
// (comma-separated) headers, as the browser sent it and as the server received it.
func SendPreflightWith(method, headers string) types.GomegaMatcher {
	return &resultMatcher{want: fmt.Sprintf("send a preflight for %s with headers %q", method, headers), check: func(r harness.Result) (bool, string) {
		p := r.Browser.Preflight
		if p == nil {
			return false, browser(r) + " sent no preflight"
		}
		if p.Method != "OPTIONS" || p.RequestHeaders["access-control-request-method"] != method || p.RequestHeaders["access-control-request-headers"] != headers {
			return false, fmt.Sprintf("%s's preflight was %s with method %q, headers %q", browser(r), p.Method, p.RequestHeaders["access-control-request-method"], p.RequestHeaders["access-control-request-headers"])
		}
		if p.RequestHeaders["origin"] != r.PageOrigin {
			return false, browser(r) + "'s preflight did not carry Origin: " + r.PageOrigin
		}
		if r.Server.Recorded {
			pre := r.Server.Preflights()
			if len(pre) == 0 {
				return false, "the server received no preflight"
			}
			h := pre[0].Header
			if h.Get("Access-Control-Request-Method") != method || h.Get("Access-Control-Request-Headers") != headers || h.Get("Origin") != r.PageOrigin {
				return false, fmt.Sprintf("the server's preflight had method %q, headers %q, origin %q", h.Get("Access-Control-Request-Method"), h.Get("Access-Control-Request-Headers"), h.Get("Origin"))
			}
			if h.Get("Cookie") != "" {
				return false, "the preflight carried cookies"
			}
		}
		return true, ""
	}}
}

// EndInPage succeeds when the page's callback was event ("load", "error",
// "abort", "timeout", "unsupported") through transport ("XMLHttpRequest",
// "XDomainRequest", "fetch"; "" for none).
func EndInPage(event, transport string) types.GomegaMatcher {
	return &resultMatcher{want: "end in the page with on" + event + " via " + transport, check: func(r harness.Result) (bool, string) {
		if r.Page.Event != event || r.Page.Transport != transport {
			return false, fmt.Sprintf("the page saw on%s via %q", r.Page.Event, r.Page.Transport)
		}
		return true, ""
	}}
}

// HaveResponseText succeeds when the page read exactly text.
func HaveResponseText(text string) types.GomegaMatcher {
	return &resultMatcher{want: fmt.Sprintf("give the page the text %q", text), check: func(r harness.Result) (bool, string) {
		if r.Page.ResponseText != text {
			return false, fmt.Sprintf("the page read %q", r.Page.ResponseText)
		}
		return true, ""
	}}
}

// BeOpaque succeeds when a no-cors fetch resolved with an opaque response
// (status 0, no text, no headers) that the server did answer: no CORS check ran and the page reads nothing.
func BeOpaque() types.GomegaMatcher {
	return &resultMatcher{want: "give the page an opaque response", check: func(r harness.Result) (bool, string) {
		switch {
		case r.Page.Event != "load" || r.Page.ResponseType != "opaque":
			return false, fmt.Sprintf("the page saw on%s with response type %q", r.Page.Event, r.Page.ResponseType)
		case r.Page.Status != 0 || r.Page.ResponseText != "" || len(r.Page.Headers) != 0:
			return false, fmt.Sprintf("the page read status %d, text %q, headers %v", r.Page.Status, r.Page.ResponseText, r.Page.Headers)
		case r.Browser.Reason != "":
			return false, browser(r) + " reported " + engineWords(r)
		case r.Server.Recorded && !r.Answered():
			return false, "the server never answered it"
		}
		return true, ""
	}}
}

package matchers

import (
	"fmt"
	"strings"

	"github.com/onsi/gomega/types"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/verdict"
)

// BeBlocked succeeds when the browser blocked the request for any CORS reason
// and the page saw what a CORS failure looks like: an error, status 0, no text.
func BeBlocked() types.GomegaMatcher {
	return &resultMatcher{want: "be blocked by CORS", check: func(r harness.Result) (bool, string) {
		switch {
		case r.Browser.Reason == "":
			return false, browser(r) + " reported no CORS error (" + oneLine(r.Verdict().String()) + ")"
		case !pageSawFailure(r.Page):
			return false, fmt.Sprintf("the page saw on%s, status %d", r.Page.Event, r.Page.Status)
		}
		return true, ""
	}}
}

// LetPageRead succeeds when the page could read every named response header
// (getResponseHeader / fetch's headers) and the server had sent it.
func LetPageRead(headers ...string) types.GomegaMatcher {
	return &resultMatcher{want: "let the page read " + strings.Join(headers, ", "), check: func(r harness.Result) (bool, string) {
		for _, h := range headers {
			if _, ok := r.Page.Headers[strings.ToLower(h)]; !ok {
				return false, "the page could not read " + h + sentBy(r, h)
			}
		}
		return true, ""
	}}
}

// HideFromPage succeeds when the page could read none of the named response headers.
func HideFromPage(headers ...string) types.GomegaMatcher {
	return &resultMatcher{want: "hide " + strings.Join(headers, ", ") + " from the page", check: func(r harness.Result) (bool, string) {
		for _, h := range headers {
			if v, ok := r.Page.Headers[strings.ToLower(h)]; ok {
				return false, fmt.Sprintf("the page read %s: %s", h, v)
			}
		}
		return true, ""
	}}
}

// sentBy says whether the response the browser received carried header h.
func sentBy(r harness.Result, h string) string {
	a := r.Browser.Actual
	if a == nil {
		return " (no response)"
	}
	if _, ok := a.ResponseHeaders[strings.ToLower(h)]; !ok {
		return " (the response did not carry it)"
	}
	return fmt.Sprintf(" (the response carried it; Access-Control-Expose-Headers was %q)", a.ResponseHeaders["access-control-expose-headers"])
}

// HaveOutcome succeeds when the request's verdict has outcome o (allowed,
// opaque, blocked, failed, aborted, timeout, unsupported, exception).
func HaveOutcome(o verdict.Outcome) types.GomegaMatcher {
	return &resultMatcher{want: "end " + string(o), check: func(r harness.Result) (bool, string) {
		if v := r.Verdict(); v.Outcome != o {
			return false, "it ended " + oneLine(v.String())
		}
		return true, ""
	}}
}

// BeExecuted succeeds when the server received and answered the actual
// request (whatever the browser then let the page read).
func BeExecuted() types.GomegaMatcher {
	return &resultMatcher{want: "be executed by the server", check: func(r harness.Result) (bool, string) {
		switch {
		case !r.Server.Recorded:
			return false, "the server's journal is not available"
		case !r.Executed():
			return false, "the server never answered the actual request"
		}
		return true, ""
	}}
}

// NotBeExecuted succeeds when the server's journal shows the actual request
// never ran: the browser stopped it (a failed preflight), or nothing answered
// it. Unlike Not(BeExecuted()), it fails when the server keeps no journal.
func NotBeExecuted() types.GomegaMatcher {
	return &resultMatcher{want: "not be executed by the server", check: func(r harness.Result) (bool, string) {
		switch {
		case !r.Server.Recorded:
			return false, "the server's journal is not available"
		case r.Executed():
			return false, "the server answered the actual request"
		}
		return true, ""
	}}
}

// HaveStatus succeeds when the page read status code.
func HaveStatus(code int) types.GomegaMatcher {
	return &resultMatcher{want: fmt.Sprintf("give the page status %d", code), check: func(r harness.Result) (bool, string) {
		if r.Page.Status != code {
			return false, fmt.Sprintf("the page read status %d", r.Page.Status)
		}
		return true, ""
	}}
}

// RunTheApp succeeds when the server's application ran the actual request
// (it reached a handler wrapped with servers.App), not only a middleware.
func RunTheApp() types.GomegaMatcher {
	return &resultMatcher{want: "run the server's application", check: func(r harness.Result) (bool, string) {
		ran, known := r.AppRan()
		switch {
		case !known:
			return false, "corslab cannot tell: the server does not mark its application (wrap it with servers.App)"
		case !ran:
			return false, "no request reached the application; " + answeredBy(r)
		}
		return true, ""
	}}
}

// NotRunTheApp succeeds when the server's application did not run the
// actual request: a middleware or router answered it, or it never arrived.
func NotRunTheApp() types.GomegaMatcher {
	return &resultMatcher{want: "leave the server's application unrun", check: func(r harness.Result) (bool, string) {
		ran, known := r.AppRan()
		switch {
		case !known:
			return false, "corslab cannot tell: the server does not mark its application (wrap it with servers.App)"
		case ran:
			return false, "the application ran"
		}
		return true, ""
	}}
}

// answeredBy says what the server answered to the actual request, if anything.
func answeredBy(r harness.Result) string {
	acts := r.Server.Actuals()
	if len(acts) == 0 {
		return "the actual request never reached the server"
	}
	return fmt.Sprintf("something before it answered %s %d", acts[0].Method, acts[0].Status)
}

// VaryOnOrigin succeeds when the actual response carried Vary: Origin (or
// Vary: *), as the browser received it or, when it reports none, as the
// server sent it.
func VaryOnOrigin() types.GomegaMatcher {
	return &resultMatcher{want: "answer with Vary: Origin", check: func(r harness.Result) (bool, string) {
		v, ok := r.Vary()
		switch {
		case !ok:
			return false, "no account of the response's headers"
		case !harness.VariesOnOrigin(v):
			return false, fmt.Sprintf("the response's Vary was %q", v)
		}
		return true, ""
	}}
}

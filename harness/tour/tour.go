// Package tour holds the article's walk-through of CORS as Scenarios: each
// step is requests plus what the article says must happen (expectations as
// data). The ginkgo specs, `corslab demo` and the lab's presets all run it,
// so they tell one story.
package tour

import (
	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/verdict"
	"github.com/corslab/corslab/servers"
)

var echo = []string{servers.Echo}

// Article returns the article's walk-through, in the article's order, as
// Scenarios with IDs A1 to A10. page is the page origin, for the step whose
// server must name it exactly (A4).
func Article(page string) []harness.Scenario {
	ncz := []servers.Header{{Name: "NCZ", Value: "x"}}
	preflightOK := servers.Policy{AllowOrigin: echo, AllowMethods: []string{"POST, GET"}, AllowHeaders: []string{"NCZ"}, MaxAge: "1728000"}
	credOK := servers.Policy{AllowOrigin: echo, AllowCredentials: "true"}
	setCookie := servers.Policy{AllowOrigin: echo, AllowCredentials: "true", SetCookie: []string{"session=s3cret"}}
	allowed := harness.Expect{Outcome: verdict.Allowed}
	simple := harness.Expect{Outcome: verdict.Allowed, FromPageOrigin: true, Preflight: harness.Bool(false)}
	text := func(e harness.Expect, t string) harness.Expect { e.Text = harness.Str(t); return e }
	page2 := func(e harness.Expect, event, transport string) harness.Expect {
		e.Page = &harness.PageEnd{Event: event, Transport: transport}
		return e
	}
	blocked := func(r verdict.Reason, param ...string) harness.Expect {
		e := harness.Expect{Outcome: verdict.Blocked, Reason: r}
		if len(param) > 0 {
			e.Parameter = harness.Str(param[0])
		}
		return e
	}
	executed := func(e harness.Expect, yes bool) harness.Expect { e.Executed = harness.Bool(yes); return e }
	cookies := func(e harness.Expect, names ...string) harness.Expect {
		e.CookiesSent = harness.Names(names...)
		return e
	}
	return []harness.Scenario{
		{
			ID: "A1", Name: "a simple GET or text/plain POST carries Origin and is not preflighted",
			Say: "GET, HEAD and POST with safelisted headers are 'simple': the browser sends them at once, with Origin: scheme://host:port and no trailing slash.",
			Sends: []harness.Send{
				{Request: harness.Request{Method: "GET", Policy: servers.Policy{AllowOrigin: echo}}, Expect: simple},
				{Request: harness.Request{Method: "POST", Body: "hello", Headers: []servers.Header{{Name: "Content-Type", Value: "text/plain"}}, Policy: servers.Policy{AllowOrigin: echo}},
					Expect: simple},
			},
		},
		{
			ID: "A2", Name: "Access-Control-Allow-Origin echoing the origin, or *, allows the response",
			Say: "The server opts in by naming the page's origin in Access-Control-Allow-Origin, or * for any origin.",
			Sends: []harness.Send{
				{Request: harness.Request{Policy: servers.Policy{AllowOrigin: echo}}, Expect: text(allowed, servers.DefaultBody)},
				{Request: harness.Request{Policy: servers.Policy{AllowOrigin: []string{"*"}}}, Expect: text(allowed, servers.DefaultBody)},
			},
		},
		{
			ID: "A3", Name: "a missing or different Access-Control-Allow-Origin blocks: onerror, status 0, empty text",
			Say: "Without the opt-in the browser hides the response: the page sees onerror, status 0 and no text. The server still ran the request.",
			Sends: []harness.Send{
				{Request: harness.Request{}, Expect: executed(blocked(verdict.MissingAllowOriginHeader), true)},
				{Request: harness.Request{Policy: servers.Policy{AllowOrigin: []string{"http://elsewhere.test:1234"}}},
					Expect: executed(blocked(verdict.AllowOriginMismatch, "http://elsewhere.test:1234"), true)},
			},
		},
		{
			ID: "A4", Name: "Access-Control-Allow-Origin with a trailing slash blocks (the article's erratum)",
			Say: "The article once printed the origin with a trailing slash; the match is exact, so that value is refused.",
			Sends: []harness.Send{
				{Request: harness.Request{Policy: servers.Policy{AllowOrigin: []string{page + "/"}}}, Expect: blocked(verdict.AllowOriginMismatch, page+"/")},
			},
		},
		{
			ID: "A5", Name: "cookies are not sent on a cross-origin request by default",
			Say: "A cookie the API origin set is sent back only when the page asks for credentials; by default it stays home.",
			Sends: []harness.Send{
				{Request: harness.Request{Credentials: true, Policy: setCookie}, Expect: cookies(allowed)},
				{Request: harness.Request{Policy: servers.Policy{AllowOrigin: echo}}, Reuse: 1, Expect: cookies(allowed)},
			},
		},
		{
			ID: "A6", Name: "createCORSRequest picks XHR, the XDomainRequest shim, or null; abort, onload, onerror behave as listed",
			Say: `createCORSRequest uses XMLHttpRequest when "withCredentials" in xhr, else XDomainRequest, else returns null.`,
			Sends: []harness.Send{
				{Request: harness.Request{Policy: servers.Policy{AllowOrigin: echo}}, Expect: page2(allowed, "load", "XMLHttpRequest")},
				{Request: harness.Request{Environment: harness.Legacy, Policy: servers.Policy{AllowOrigin: echo}},
					Expect: text(page2(allowed, "load", "XDomainRequest"), servers.DefaultBody)},
				{Request: harness.Request{Environment: harness.Legacy}, Expect: page2(blocked(verdict.MissingAllowOriginHeader), "error", "XDomainRequest")},
				{Request: harness.Request{Environment: harness.NoCORS}, Expect: page2(harness.Expect{Outcome: verdict.Unsupported}, "unsupported", "")},
				{Request: harness.Request{Abort: harness.AbortOnHeaders, Policy: servers.Policy{AllowOrigin: echo, Stall: servers.StallHeaders}},
					Expect: page2(harness.Expect{Outcome: verdict.Aborted}, "abort", "XMLHttpRequest")},
			},
		},
		{
			ID: "A7", Name: "a custom header (NCZ) makes a POST preflighted",
			Say: "A header outside the safelist makes the browser ask first: OPTIONS with Origin, Access-Control-Request-Method and the header names, lower-cased.",
			Sends: []harness.Send{
				{Request: harness.Request{Method: "POST", Headers: ncz, Body: "hello", Policy: preflightOK},
					Expect: harness.Expect{Outcome: verdict.Allowed, Preflight: harness.Bool(true), PreflightAsks: &harness.PreflightAsk{Method: "POST", Headers: "ncz"}}},
			},
		},
		{
			ID: "A8", Name: "a preflight allowing POST, GET and NCZ with Max-Age 1728000 is cached: the repeat sends no preflight",
			Say: "The preflight answer is cached for Access-Control-Max-Age seconds, so the identical request goes straight out.",
			// A new tab, as the article's reader has: Firefox's cache depends on what the tab did before.
			Fresh: true,
			Deviations: map[verdict.Engine]string{
				verdict.Chromium: "Chromium caps Access-Control-Max-Age at 7200 s (2 h), so the article's 1728000 (20 days) caches for 2 hours.",
				verdict.Firefox:  "In a new tab Firefox does not reuse its first three preflights to a host that is an IP literal (here 127.0.0.1), so the repeat is preflighted again; later preflights, and those to a host name, are reused.",
				verdict.WebKit:   "WebKit caps Access-Control-Max-Age at 600 s (10 min), so the article's 1728000 caches for 10 minutes.",
			},
			Sends: []harness.Send{
				{Request: harness.Request{Method: "POST", Headers: ncz, Body: "hello", Policy: preflightOK},
					Expect: harness.Expect{Outcome: verdict.Allowed, Preflight: harness.Bool(true)}},
				{Request: harness.Request{Method: "POST", Headers: ncz, Body: "hello", Policy: preflightOK}, Reuse: 1,
					Expect: harness.Expect{Outcome: verdict.Allowed, PreflightCached: harness.Bool(true)},
					For:    map[verdict.Engine]harness.Expect{verdict.Firefox: {PreflightCached: harness.Bool(false)}}},
			},
		},
		{
			ID: "A9", Name: "withCredentials with Access-Control-Allow-Credentials: true sends cookies; without it, onerror",
			Say: "A credentialed request carries the cookies, and the page sees the answer only if the server says Access-Control-Allow-Credentials: true.",
			Sends: []harness.Send{
				{Request: harness.Request{Credentials: true, Policy: setCookie}, Expect: allowed},
				{Request: harness.Request{Credentials: true, Policy: credOK}, Reuse: 1, Expect: cookies(allowed, "session")},
				{Request: harness.Request{Credentials: true, Policy: servers.Policy{AllowOrigin: echo}}, Reuse: 1,
					Expect: executed(cookies(blocked(verdict.InvalidAllowCredentials), "session"), true)},
			},
		},
		{
			ID: "A10", Name: "Access-Control-Allow-Credentials on the preflight allows the credentialed preflighted request",
			Say: "For a credentialed request that needs a preflight, the preflight answer must allow credentials too; the preflight itself never carries cookies.",
			Sends: []harness.Send{
				{Request: harness.Request{Credentials: true, Policy: setCookie}, Expect: allowed},
				{Request: harness.Request{Method: "POST", Headers: ncz, Body: "hello", Credentials: true,
					Policy: servers.Policy{AllowOrigin: echo, AllowCredentials: "true", AllowMethods: []string{"POST"}, AllowHeaders: []string{"NCZ"}}}, Reuse: 1,
					Expect: cookies(harness.Expect{Outcome: verdict.Allowed, PreflightAsks: &harness.PreflightAsk{Method: "POST", Headers: "ncz"}}, "session")},
				{Request: harness.Request{Method: "POST", Headers: ncz, Body: "hello", Credentials: true,
					Policy: servers.Policy{AllowOrigin: echo, AllowCredentials: "true", AllowMethods: []string{"POST"}, AllowHeaders: []string{"NCZ"},
						Preflight: &servers.Policy{AllowOrigin: echo, AllowMethods: []string{"POST"}, AllowHeaders: []string{"NCZ"}}}}, Reuse: 1,
					Expect: executed(blocked(verdict.PreflightInvalidAllowCredentials), false)},
			},
		},
	}
}

// Step returns the step of the walk-through with this ID, and false when there is none.
func Step(page, id string) (harness.Scenario, bool) {
	for _, s := range Article(page) {
		if s.ID == id {
			return s, true
		}
	}
	return harness.Scenario{}, false
}

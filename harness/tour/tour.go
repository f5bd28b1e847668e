// Package tour holds the article's walk-through of CORS (SCENARIOS.md section
// A) as data: each step is requests plus what the article says must happen.
// The ginkgo specs and `corslab demo` both run it, so they tell one story.
package tour

import (
	"context"
	"errors"
	"fmt"

	"github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/matchers"
	"github.com/corslab/corslab/servers"
)

// Send is one request of a step and what must hold for its result.
type Send struct {
	Request harness.Request
	// Reuse is the 1-based index of an earlier Send in the step whose token
	// (URL, preflight-cache entry, cookie path) this one reuses; 0 means a new token.
	Reuse  int
	Expect []types.GomegaMatcher
}

// Step is one behaviour the article describes.
type Step struct {
	ID     string // the SCENARIOS.md item, e.g. "A7"
	Title  string
	Say    string // one line of explanation
	Chrome string // where Chrome differs from the article or the standard; "" when it does not
	Sends  []Send
}

// Name is the step's ID and title, e.g. "A1 simple GET carries Origin, no preflight".
func (s Step) Name() string { return s.ID + " " + s.Title }

// Run sends the step's requests in order through do and returns the results so far.
func (s Step) Run(ctx context.Context, do func(context.Context, harness.Request) (harness.Result, error)) ([]harness.Result, error) {
	var out []harness.Result
	for i, snd := range s.Sends {
		req := snd.Request
		if snd.Reuse > 0 {
			if snd.Reuse > i {
				return out, fmt.Errorf("%s send %d reuses send %d, which has not run", s.ID, i+1, snd.Reuse)
			}
			req.Token = out[snd.Reuse-1].Token
		}
		r, err := do(ctx, req)
		if err != nil {
			return out, fmt.Errorf("%s send %d: %w", s.ID, i+1, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// Check applies every expectation to its result and returns the failures, each with its transcript.
func (s Step) Check(results []harness.Result) error {
	var errs []error
	for i, snd := range s.Sends {
		if i >= len(results) {
			errs = append(errs, fmt.Errorf("send %d did not run", i+1))
			continue
		}
		for _, m := range snd.Expect {
			ok, err := m.Match(results[i])
			if err != nil {
				errs = append(errs, err)
			} else if !ok {
				errs = append(errs, errors.New(m.FailureMessage(results[i])))
			}
		}
	}
	return errors.Join(errs...)
}

var echo = []string{servers.Echo}

// Article returns section A of SCENARIOS.md, in the article's order. page is
// the page origin, for the steps whose server must name it exactly.
func Article(page string) []Step {
	ncz := []servers.Header{{Name: "NCZ", Value: "x"}}
	preflightOK := servers.Policy{AllowOrigin: echo, AllowMethods: []string{"POST, GET"}, AllowHeaders: []string{"NCZ"}, MaxAge: "1728000"}
	credOK := servers.Policy{AllowOrigin: echo, AllowCredentials: "true"}
	setCookie := servers.Policy{AllowOrigin: echo, AllowCredentials: "true", SetCookie: []string{"session=s3cret"}}
	return []Step{
		{
			ID: "A1", Title: "a simple GET or text/plain POST carries Origin and is not preflighted",
			Say: "GET, HEAD and POST with safelisted headers are 'simple': the browser sends them at once, with Origin: scheme://host:port and no trailing slash.",
			Sends: []Send{
				{Request: harness.Request{Method: "GET", Policy: servers.Policy{AllowOrigin: echo}},
					Expect: []types.GomegaMatcher{matchers.BeAllowed(), matchers.ComeFromPageOrigin(), not(matchers.BePreflighted())}},
				{Request: harness.Request{Method: "POST", Body: "hello", Headers: []servers.Header{{Name: "Content-Type", Value: "text/plain"}}, Policy: servers.Policy{AllowOrigin: echo}},
					Expect: []types.GomegaMatcher{matchers.BeAllowed(), matchers.ComeFromPageOrigin(), not(matchers.BePreflighted())}},
			},
		},
		{
			ID: "A2", Title: "Access-Control-Allow-Origin echoing the origin, or *, allows the response",
			Say: "The server opts in by naming the page's origin in Access-Control-Allow-Origin, or * for any origin.",
			Sends: []Send{
				{Request: harness.Request{Policy: servers.Policy{AllowOrigin: echo}},
					Expect: []types.GomegaMatcher{matchers.BeAllowed(), matchers.HaveResponseText(servers.DefaultBody)}},
				{Request: harness.Request{Policy: servers.Policy{AllowOrigin: []string{"*"}}},
					Expect: []types.GomegaMatcher{matchers.BeAllowed(), matchers.HaveResponseText(servers.DefaultBody)}},
			},
		},
		{
			ID: "A3", Title: "a missing or different Access-Control-Allow-Origin blocks: onerror, status 0, empty text",
			Say: "Without the opt-in the browser hides the response: the page sees onerror, status 0 and no text. The server still ran the request.",
			Sends: []Send{
				{Request: harness.Request{},
					Expect: []types.GomegaMatcher{matchers.BeBlockedWith("MissingAllowOriginHeader"), matchers.BeExecutedDespiteBlock()}},
				{Request: harness.Request{Policy: servers.Policy{AllowOrigin: []string{"http://elsewhere.test:1234"}}},
					Expect: []types.GomegaMatcher{matchers.BeBlockedWith("AllowOriginMismatch", "http://elsewhere.test:1234"), matchers.BeExecutedDespiteBlock()}},
			},
		},
		{
			ID: "A4", Title: "Access-Control-Allow-Origin with a trailing slash blocks (the article's erratum)",
			Say: "The article once printed the origin with a trailing slash; the match is exact, so that value is refused.",
			Sends: []Send{
				{Request: harness.Request{Policy: servers.Policy{AllowOrigin: []string{page + "/"}}},
					Expect: []types.GomegaMatcher{matchers.BeBlockedWith("AllowOriginMismatch", page+"/")}},
			},
		},
		{
			ID: "A5", Title: "cookies are not sent on a cross-origin request by default",
			Say: "A cookie the API origin set is sent back only when the page asks for credentials; by default it stays home.",
			Sends: []Send{
				{Request: harness.Request{Credentials: true, Policy: setCookie},
					Expect: []types.GomegaMatcher{matchers.BeAllowed(), matchers.SendCookies()}},
				{Request: harness.Request{Policy: servers.Policy{AllowOrigin: echo}}, Reuse: 1,
					Expect: []types.GomegaMatcher{matchers.BeAllowed(), matchers.SendCookies()}},
			},
		},
		{
			ID: "A6", Title: "createCORSRequest picks XHR, the XDomainRequest shim, or null; abort, onload, onerror behave as listed",
			Say: `createCORSRequest uses XMLHttpRequest when "withCredentials" in xhr, else XDomainRequest, else returns null.`,
			Sends: []Send{
				{Request: harness.Request{Policy: servers.Policy{AllowOrigin: echo}},
					Expect: []types.GomegaMatcher{matchers.BeAllowed(), matchers.EndInPage("load", "XMLHttpRequest")}},
				{Request: harness.Request{Environment: harness.Legacy, Policy: servers.Policy{AllowOrigin: echo}},
					Expect: []types.GomegaMatcher{matchers.BeAllowed(), matchers.EndInPage("load", "XDomainRequest"), matchers.HaveResponseText(servers.DefaultBody)}},
				{Request: harness.Request{Environment: harness.Legacy},
					Expect: []types.GomegaMatcher{matchers.BeBlockedWith("MissingAllowOriginHeader"), matchers.EndInPage("error", "XDomainRequest")}},
				{Request: harness.Request{Environment: harness.NoCORS},
					Expect: []types.GomegaMatcher{matchers.EndInPage("unsupported", "")}},
				{Request: harness.Request{Abort: harness.AbortOnHeaders, Policy: servers.Policy{AllowOrigin: echo, Stall: servers.StallHeaders}},
					Expect: []types.GomegaMatcher{matchers.EndInPage("abort", "XMLHttpRequest"), not(matchers.BeBlockedWith("MissingAllowOriginHeader"))}},
			},
		},
		{
			ID: "A7", Title: "a custom header (NCZ) makes a POST preflighted",
			Say: "A header outside the safelist makes the browser ask first: OPTIONS with Origin, Access-Control-Request-Method and the header names, lower-cased.",
			Sends: []Send{
				{Request: harness.Request{Method: "POST", Headers: ncz, Body: "hello", Policy: preflightOK},
					Expect: []types.GomegaMatcher{matchers.BePreflighted(), matchers.SendPreflightWith("POST", "ncz"), matchers.BeAllowed()}},
			},
		},
		{
			ID: "A8", Title: "a preflight allowing POST, GET and NCZ with Max-Age 1728000 is cached: the repeat sends no preflight",
			Say:    "The preflight answer is cached for Access-Control-Max-Age seconds, so the identical request goes straight out.",
			Chrome: "Chrome caps Access-Control-Max-Age at 7200 s (2 h), so the article's 1728000 (20 days) caches for 2 hours.",
			Sends: []Send{
				{Request: harness.Request{Method: "POST", Headers: ncz, Body: "hello", Policy: preflightOK},
					Expect: []types.GomegaMatcher{matchers.BePreflighted(), matchers.BeAllowed()}},
				{Request: harness.Request{Method: "POST", Headers: ncz, Body: "hello", Policy: preflightOK}, Reuse: 1,
					Expect: []types.GomegaMatcher{matchers.UseCachedPreflight(), matchers.BeAllowed()}},
			},
		},
		{
			ID: "A9", Title: "withCredentials with Access-Control-Allow-Credentials: true sends cookies; without it, onerror",
			Say: "A credentialed request carries the cookies, and the page sees the answer only if the server says Access-Control-Allow-Credentials: true.",
			Sends: []Send{
				{Request: harness.Request{Credentials: true, Policy: setCookie},
					Expect: []types.GomegaMatcher{matchers.BeAllowed()}},
				{Request: harness.Request{Credentials: true, Policy: credOK}, Reuse: 1,
					Expect: []types.GomegaMatcher{matchers.BeAllowed(), matchers.SendCookies("session")}},
				{Request: harness.Request{Credentials: true, Policy: servers.Policy{AllowOrigin: echo}}, Reuse: 1,
					Expect: []types.GomegaMatcher{matchers.BeBlockedWith("InvalidAllowCredentials"), matchers.SendCookies("session"), matchers.BeExecutedDespiteBlock()}},
			},
		},
		{
			ID: "A10", Title: "Access-Control-Allow-Credentials on the preflight allows the credentialed preflighted request",
			Say: "For a credentialed request that needs a preflight, the preflight answer must allow credentials too; the preflight itself never carries cookies.",
			Sends: []Send{
				{Request: harness.Request{Credentials: true, Policy: setCookie},
					Expect: []types.GomegaMatcher{matchers.BeAllowed()}},
				{Request: harness.Request{Method: "POST", Headers: ncz, Body: "hello", Credentials: true,
					Policy: servers.Policy{AllowOrigin: echo, AllowCredentials: "true", AllowMethods: []string{"POST"}, AllowHeaders: []string{"NCZ"}}}, Reuse: 1,
					Expect: []types.GomegaMatcher{matchers.SendPreflightWith("POST", "ncz"), matchers.BeAllowed(), matchers.SendCookies("session")}},
				{Request: harness.Request{Method: "POST", Headers: ncz, Body: "hello", Credentials: true,
					Policy: servers.Policy{AllowOrigin: echo, AllowCredentials: "true", AllowMethods: []string{"POST"}, AllowHeaders: []string{"NCZ"},
						Preflight: &servers.Policy{AllowOrigin: echo, AllowMethods: []string{"POST"}, AllowHeaders: []string{"NCZ"}}}}, Reuse: 1,
					Expect: []types.GomegaMatcher{matchers.BeBlockedWith("PreflightInvalidAllowCredentials"), not(matchers.BeExecutedDespiteBlock())}},
			},
		},
	}
}

// not negates a matcher; views that disagree still fail it (matchers return an error for them).
func not(m types.GomegaMatcher) types.GomegaMatcher { return gomega.Not(m) }

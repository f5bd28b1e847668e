package specs_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/corslab/corslab/harness"
	. "github.com/corslab/corslab/harness/matchers"
	"github.com/corslab/corslab/harness/verdict"
	"github.com/corslab/corslab/servers"
)

// What the browsers' own conformance tests (web-platform-tests cors/,
// fetch/api/cors/, xhr/access-control-*) need a server and a page to do.
var _ = Describe("answers and requests of the conformance tests", func() {
	It("an answer that changes from the n-th request: a new preflight replaces the cached entry (Max-Age 600 by Max-Age 0)", within, func(ctx SpecContext) {
		a := []servers.Header{{Name: "X-A", Value: "1"}}
		ab := append([]servers.Header{{Name: "X-B", Value: "1"}}, a...)
		// Requests 1 and 2 are the first preflight and PUT; the third, the
		// second preflight, and every one after get the later answer.
		pol := servers.Policy{AllowOrigin: echo, AllowMethods: []string{"PUT"}, AllowHeaders: []string{"X-A"}, MaxAge: "600",
			Later: &servers.Policy{AllowOrigin: echo, AllowMethods: []string{"PUT"}, AllowHeaders: []string{"X-A, X-B"}, MaxAge: "0"}, LaterFrom: 3}
		sc := harness.Scenario{Name: "replaced", Sends: []harness.Send{
			{Request: harness.Request{Method: "PUT", Headers: a, Policy: pol}, Expect: harness.Expect{Outcome: verdict.Allowed, Preflight: harness.Bool(true)}},
			{Request: harness.Request{Method: "PUT", Headers: ab, Policy: pol}, Reuse: 1,
				Expect: harness.Expect{Outcome: verdict.Allowed, Preflight: harness.Bool(true)}},
			{Request: harness.Request{Method: "PUT", Headers: a, Policy: pol}, Reuse: 1,
				Expect: harness.Expect{Outcome: verdict.Allowed, PreflightCached: harness.Bool(false)}},
		}}
		results, err := env.Play(ctx, sc)
		Expect(err).NotTo(HaveOccurred())
		Expect(Check(sc, results)).To(Succeed(), "the 600-second entry for X-A was replaced by the 0-second one")
	})

	It("a status outside 200-599 (600) reaches the page like any other", within, func(ctx SpecContext) {
		r, err := env.Do(ctx, harness.Request{Policy: servers.Policy{AllowOrigin: echo, Status: 600}})
		Expect(err).NotTo(HaveOccurred())
		Expect(r).To(BeAllowed())
		Expect(r).To(HaveStatus(600))
	})

	It("an empty body is not the default body", within, func(ctx SpecContext) {
		r, err := env.Do(ctx, harness.Request{Policy: servers.Policy{AllowOrigin: echo, NoBody: true}})
		Expect(err).NotTo(HaveOccurred())
		Expect(r).To(BeAllowed())
		Expect(r).To(HaveResponseText(""))
	})

	It("Allow-Origin sent raw with spaces around the origin is trimmed by the browser: allowed", within, func(ctx SpecContext) {
		r, err := env.Do(ctx, harness.Request{})
		Expect(err).NotTo(HaveOccurred())
		pad, err := env.Do(ctx, harness.Request{Policy: servers.Policy{RawHeaders: []servers.Header{{Name: "Access-Control-Allow-Origin", Value: "  " + r.PageOrigin + " \t"}}}})
		Expect(err).NotTo(HaveOccurred())
		Expect(pad).To(BeAllowed())
		Expect(pad.Server.Actuals()[0].Response.Get("Access-Control-Allow-Origin")).To(HavePrefix("  "), "the server sent the spaces")
	})

	It("Allow-Origin sent raw with a NUL byte in it: Chromium refuses the whole response as invalid HTTP, not as CORS", within, func(ctx SpecContext) {
		r, err := env.Do(ctx, harness.Request{Policy: servers.Policy{RawHeaders: []servers.Header{{Name: "Access-Control-Allow-Origin", Value: "*\x00"}}}})
		Expect(err).NotTo(HaveOccurred())
		Expect(r).To(FailWithoutCORSError("net::ERR_INVALID_HTTP_RESPONSE"))
		Expect(r.Server.Actuals()[0].Response.Get("Access-Control-Allow-Origin")).To(Equal("*\x00"), "the server sent the NUL")
		Expect(r.Notes).To(BeEmpty(), "no wait for a status that cannot come\n%s", r)
	})

	DescribeTable("fetch's referrerPolicy decides the Referer the server receives",
		func(ctx SpecContext, policy string, wantReferer bool) {
			r, err := env.Do(ctx, harness.Request{API: harness.Fetch, ReferrerPolicy: policy, Policy: servers.Policy{AllowOrigin: echo}})
			Expect(err).NotTo(HaveOccurred())
			Expect(r).To(BeAllowed())
			ref := r.Server.Actuals()[0].Header.Get("Referer")
			if wantReferer {
				Expect(ref).To(HavePrefix(r.PageOrigin), "%s", r)
			} else {
				Expect(ref).To(BeEmpty(), "%s", r)
			}
		},
		Entry("the default sends the page's origin", "", true, within),
		Entry("no-referrer sends none", "no-referrer", false, within),
	)

	It("user and password in XMLHttpRequest's open(): measured", within, func(ctx SpecContext) {
		r, err := env.Do(ctx, harness.Request{User: "ada", Password: "secret", Policy: servers.Policy{AllowOrigin: echo}})
		Expect(err).NotTo(HaveOccurred())
		AddReportEntry("open() with a user and password", r.String())
		Expect(r.Disagreements()).To(BeEmpty(), r.String())
	})

	// Chromium reports a worker's requests only to the worker's own DevTools
	// session: the page and the server views tell this story.
	It("a request from a dedicated worker carries the page's origin and is checked the same", within, func(ctx SpecContext) {
		ok, err := env.Do(ctx, harness.Request{Worker: true, Policy: servers.Policy{AllowOrigin: echo}})
		Expect(err).NotTo(HaveOccurred())
		Expect(ok.Page.Event).To(Equal("load"), "%s", ok)
		Expect(ok.Page.Transport).To(Equal("XMLHttpRequest in a worker"))
		Expect(ok.Server.Actuals()).To(HaveLen(1))
		Expect(ok.Server.Actuals()[0].Origin()).To(Equal(ok.PageOrigin), "the worker's requests carry the page's origin")
		Expect(ok.Browser.Unseen).To(ContainSubstring("dedicated worker"))
		Expect(ok.Disagreements()).To(BeEmpty())
		blocked, err := env.Do(ctx, harness.Request{Worker: true})
		Expect(err).NotTo(HaveOccurred())
		Expect(blocked.Page.Event).To(Equal("error"), "%s", blocked)
		Expect(blocked.Page.Status).To(BeZero())
		Expect(blocked.Server.Actuals()).To(HaveLen(1), "blocked, yet the server ran it")
	})
})

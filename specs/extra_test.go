package specs_test

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/matchers"
	"github.com/corslab/corslab/harness/verdict"
	"github.com/corslab/corslab/servers"
)

// Conditional requests (section E), synchronous XHR (G2) and a server that
// closes the connection (H).
var _ = Describe("conditional requests and 304", func() {
	inm := []servers.Header{{Name: "If-None-Match", Value: `"v1"`}}
	DescribeTable("a 304 keeps the CORS result",
		func(ctx SpecContext, api string, acao []string, reason string) {
			r, err := env.Do(ctx, harness.Request{API: api, Headers: inm,
				Policy: servers.Policy{AllowOrigin: acao, AllowHeaders: []string{"If-None-Match"}, Status: 304,
					Preflight: &servers.Policy{AllowOrigin: []string{servers.Echo}, AllowHeaders: []string{"If-None-Match"}}}})
			Expect(err).NotTo(HaveOccurred())
			// If-None-Match is not a safelisted header: the request is preflighted.
			Expect(r).To(matchers.BePreflighted())
			Expect(r.Server.Actuals()).To(HaveLen(1))
			Expect(r.Server.Actuals()[0].Status).To(Equal(304))
			if reason != "" {
				Expect(r).To(matchers.BeBlockedWith(verdict.Reason(reason)))
				return
			}
			Expect(r).To(matchers.BeAllowed())
			Expect(r.Page.Status).To(Equal(304), "a 304 to the page's own conditional request reaches the page as 304")
		},
		Entry("304 with Access-Control-Allow-Origin is readable (XHR)", harness.XHR, []string{servers.Echo}, "", within),
		Entry("304 with Access-Control-Allow-Origin is readable (fetch)", harness.Fetch, []string{servers.Echo}, "", within),
		Entry("304 without Access-Control-Allow-Origin is blocked (XHR)", harness.XHR, nil, "MissingAllowOriginHeader", within),
		Entry("304 without Access-Control-Allow-Origin is blocked (fetch)", harness.Fetch, nil, "MissingAllowOriginHeader", within),
	)
})

var _ = Describe("synchronous XMLHttpRequest (Chrome still allows it in a window)", func() {
	echo := []string{servers.Echo}
	It("is allowed like an asynchronous one when the server opts in", within, func(ctx SpecContext) {
		r, err := env.Do(ctx, harness.Request{Sync: true, Policy: servers.Policy{AllowOrigin: echo}})
		Expect(err).NotTo(HaveOccurred())
		Expect(r).To(matchers.BeAllowed())
		Expect(r).To(matchers.EndInPage("load", "XMLHttpRequest (sync)"))
		Expect(r).To(matchers.HaveResponseText(servers.DefaultBody))
	})
	It("is blocked with the same reason, and send() throws a NetworkError", within, func(ctx SpecContext) {
		r, err := env.Do(ctx, harness.Request{Sync: true})
		Expect(err).NotTo(HaveOccurred())
		Expect(r).To(matchers.BeBlockedWith("MissingAllowOriginHeader"))
		Expect(r).To(matchers.BeExecutedDespiteBlock())
		Expect(r.Page.Error).To(HavePrefix("NetworkError"))
	})
	It("is preflighted for a custom header, and refused when the preflight does not allow it", within, func(ctx SpecContext) {
		r, err := env.Do(ctx, harness.Request{Sync: true, Method: "POST", Body: "x",
			Headers: []servers.Header{{Name: "NCZ", Value: "x"}}, Policy: servers.Policy{AllowOrigin: echo}})
		Expect(err).NotTo(HaveOccurred())
		Expect(r).To(matchers.SendPreflightWith("POST", "ncz"))
		Expect(r).To(matchers.BeBlockedWith("HeaderDisallowedByPreflightResponse", "ncz"))
		Expect(r.Server.Actuals()).To(BeEmpty())
	})
})

var _ = Describe("a server that closes the connection without answering", func() {
	It("looks like a CORS failure to the page; Chrome and the journal tell them apart", within, func(ctx SpecContext) {
		r, err := env.Do(ctx, harness.Request{Policy: servers.Policy{AllowOrigin: []string{servers.Echo}, Stall: servers.StallClose}})
		Expect(err).NotTo(HaveOccurred())
		Expect(r.Page.Event).To(Equal("error"))
		Expect(r.Page.Status).To(Equal(0))
		Expect(r.Browser.Reason).To(BeEmpty(), "not a CORS error")
		Expect(r.Browser.ErrorText).To(Equal("net::ERR_EMPTY_RESPONSE"))
		Expect(r).To(matchers.FailWithoutCORSError("net::ERR_EMPTY_RESPONSE"))
		acts := r.Server.Actuals()
		Expect(acts).NotTo(BeEmpty())
		for _, e := range acts {
			Expect(e.Status).To(Equal(-1), "the server answered nothing")
		}
		AddReportEntry("requests the server received", strings.Repeat("GET ", len(acts)))
	})
})

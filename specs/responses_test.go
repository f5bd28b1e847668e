package specs_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/corslab/corslab/harness"
	. "github.com/corslab/corslab/harness/matchers"
	"github.com/corslab/corslab/servers"
)

// Section E: what the page can read of an allowed response.
var _ = Describe("responses seen by the page (section E)", func() {
	extra := []servers.Header{{Name: "X-Custom", Value: "1"}, {Name: "Content-Language", Value: "fr"}, {Name: "Expires", Value: "0"},
		{Name: "Last-Modified", Value: "Tue, 24 Nov 2026 10:00:00 GMT"}, {Name: "Pragma", Value: "no-cache"}}
	safelisted := []string{"cache-control", "content-language", "content-type", "expires", "last-modified", "pragma"}

	DescribeTable("readable response headers",
		func(ctx SpecContext, api string, credentials bool, expose []string, readable, hidden []string) {
			p := servers.Policy{AllowOrigin: echo, Headers: extra, ExposeHeaders: expose, SetCookie: []string{"e=1"}}
			if credentials {
				p.AllowCredentials = "true"
			}
			r := runScenario(ctx, api, harness.Request{Credentials: credentials, Policy: p}, nil)
			Expect(r).To(BeAllowed())
			for _, k := range readable {
				Expect(r.Page.Headers).To(HaveKey(k), "%s must be readable\n%s", k, r)
			}
			for _, k := range hidden {
				Expect(r.Page.Headers).NotTo(HaveKey(k), "%s must be hidden\n%s", k, r)
			}
			Expect(r.Browser.Actual.ResponseHeaders).To(HaveKey("x-custom"), "Chrome received it: hiding it is the page's view only")
		},
		Entry("without Expose-Headers only the safelisted ones (XHR)", harness.XHR, false, nil, safelisted, []string{"x-custom", "set-cookie"}, within),
		Entry("without Expose-Headers only the safelisted ones (fetch)", harness.Fetch, false, nil, safelisted, []string{"x-custom", "set-cookie"}, within),
		Entry("Expose-Headers X-Custom adds it (XHR)", harness.XHR, false, []string{"X-Custom"}, []string{"x-custom"}, []string{"set-cookie"}, within),
		Entry("Expose-Headers X-Custom adds it (fetch)", harness.Fetch, false, []string{"X-Custom"}, []string{"x-custom"}, []string{"set-cookie"}, within),
		Entry("Expose-Headers * exposes all but Set-Cookie without credentials (XHR)", harness.XHR, false, []string{"*"}, []string{"x-custom"}, []string{"set-cookie"}, within),
		Entry("Expose-Headers * exposes all but Set-Cookie without credentials (fetch)", harness.Fetch, false, []string{"*"}, []string{"x-custom"}, []string{"set-cookie"}, within),
		Entry("Expose-Headers * is literal with credentials (XHR)", harness.XHR, true, []string{"*"}, safelisted, []string{"x-custom", "set-cookie"}, within),
		Entry("Expose-Headers * is literal with credentials (fetch)", harness.Fetch, true, []string{"*"}, safelisted, []string{"x-custom", "set-cookie"}, within),
		Entry("Set-Cookie is never readable, even named in Expose-Headers (XHR)", harness.XHR, true, []string{"Set-Cookie", "X-Custom"}, []string{"x-custom"}, []string{"set-cookie"}, within),
	)

	var statusEntries []TableEntry
	for _, code := range []int{200, 201, 204, 400, 401, 404, 500, 501} {
		statusEntries = append(statusEntries, perAPI("status "+itoa(code)+" is an allowed response the page reads", both,
			harness.Request{Policy: servers.Policy{AllowOrigin: echo, Status: code}}, allowed, harness.Expect{Status: code})...)
	}
	DescribeTable("status codes pass through", scenarioTable, statusEntries)
})

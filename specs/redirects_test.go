package specs_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/corslab/corslab/harness"
	. "github.com/corslab/corslab/harness/matchers"
	"github.com/corslab/corslab/servers"
)

// Section G: a redirected request. Policy.Redirect sends it to one of
// corslab's own origins with the same token, so the journal holds every hop.
var _ = Describe("redirects (section G)", func() {
	hop := func(to string, first, then servers.Policy) harness.Request {
		first.Redirect = &servers.Redirect{Status: 302, To: to, Then: &then}
		return harness.Request{Policy: first}
	}
	allow := servers.Policy{AllowOrigin: echo}

	DescribeTable("the actual request",
		func(ctx SpecContext, api string, build func(o *servers.Origins) harness.Request, allowed bool, secondOrigin string) {
			r := runScenario(ctx, api, build(env.Origins), nil)
			if allowed {
				Expect(r).To(BeAllowed())
			} else {
				Expect(r).To(BeBlockedWith("AllowOriginMismatch", r.PageOrigin))
			}
			acts := r.Server.Actuals()
			Expect(acts).To(HaveLen(2), "the server received both hops\n%s", r)
			want := secondOrigin
			if want == "page" {
				want = r.PageOrigin
			}
			Expect(acts[1].Origin()).To(Equal(want), "Origin on the second hop")
			Expect(r.Browser.Actual.Redirects).To(HaveLen(1), "Chrome followed one redirect")
		},
		Entry("within the API origin: allowed, Origin stays the page's (xhr)", harness.XHR, func(*servers.Origins) harness.Request { return hop("", allow, allow) }, true, "page", within),
		Entry("within the API origin: allowed, Origin stays the page's (fetch)", harness.Fetch, func(*servers.Origins) harness.Request { return hop("", allow, allow) }, true, "page", within),
		Entry("API → other origin: Origin becomes null, echoed back as Allow-Origin null it passes (xhr)", harness.XHR,
			func(o *servers.Origins) harness.Request { return hop(o.Other.URL, allow, allow) }, true, "null", within),
		Entry("API → other origin: Origin becomes null, echoed back as Allow-Origin null it passes (fetch)", harness.Fetch,
			func(o *servers.Origins) harness.Request { return hop(o.Other.URL, allow, allow) }, true, "null", within),
		Entry("API → other origin answering the page's origin: blocked, the tainted origin is null (xhr)", harness.XHR,
			func(o *servers.Origins) harness.Request {
				return hop(o.Other.URL, allow, servers.Policy{AllowOrigin: []string{o.App.URL}})
			}, false, "null", within),
		Entry("API → other origin answering the page's origin: blocked, the tainted origin is null (fetch)", harness.Fetch,
			func(o *servers.Origins) harness.Request {
				return hop(o.Other.URL, allow, servers.Policy{AllowOrigin: []string{o.App.URL}})
			}, false, "null", within),
	)

	DescribeTable("each hop needs its own CORS pass", scenarioTable, entries(
		perAPI("a redirect without Allow-Origin is blocked before the next hop: MissingAllowOriginHeader", both,
			hop("", servers.Policy{}, allow), blocked("MissingAllowOriginHeader")),
		perAPI("no-cors follows the redirect with no CORS check: opaque", fetchOnly,
			harness.Request{Mode: "no-cors", Policy: servers.Policy{Redirect: &servers.Redirect{Status: 302}}}, opaque),
	))
})

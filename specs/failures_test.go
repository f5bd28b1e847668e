package specs_test

import (
	"net"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/corslab/corslab/harness"
	. "github.com/corslab/corslab/harness/matchers"
	"github.com/corslab/corslab/servers"
)

// Section H: failures that are not CORS look like CORS failures to the page;
// the browser and server views tell them apart. And a blocked request can
// still have run on the server.
var _ = Describe("failures that are not CORS (section H)", func() {
	DescribeTable("server down (a closed port): net::ERR_CONNECTION_REFUSED, no CORS error, the page sees the same onerror",
		func(ctx SpecContext, api string) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			Expect(err).NotTo(HaveOccurred())
			addr := l.Addr().String()
			Expect(l.Close()).To(Succeed())
			runScenario(ctx, api, harness.Request{URL: "http://" + addr + "/down"}, []OmegaMatcher{FailWithoutCORSError("net::ERR_CONNECTION_REFUSED")})
		},
		Entry("xhr", harness.XHR, within),
		Entry("fetch", harness.Fetch, within),
	)

	DescribeTable("the page ends its own request", func(ctx SpecContext, api string, req harness.Request, event string) {
		r := runScenario(ctx, api, req, nil)
		Expect(r.Page.Event).To(Equal(event), "%s", r)
		Expect(r.Browser.Reason).To(BeEmpty(), "%s", r)
	},
		Entry("a timeout on a stalled answer (xhr)", harness.XHR, harness.Request{Timeout: 300 * time.Millisecond, Policy: servers.Policy{AllowOrigin: echo, Stall: servers.StallResponse}}, "timeout", within),
		Entry("a timeout on a stalled answer (fetch)", harness.Fetch, harness.Request{Timeout: 300 * time.Millisecond, Policy: servers.Policy{AllowOrigin: echo, Stall: servers.StallResponse}}, "timeout", within),
		Entry("abort() when the headers arrive (xhr)", harness.XHR, harness.Request{Abort: harness.AbortOnHeaders, Policy: servers.Policy{AllowOrigin: echo, Stall: servers.StallHeaders}}, "abort", within),
	)

	DescribeTable("blocked but executed: CORS protects the reader, not the server", scenarioTable, entries(
		perAPI("a simple POST without Allow-Origin ran on the server", both,
			harness.Request{Method: "POST", Body: "transfer", Policy: servers.Policy{}}, blocked("MissingAllowOriginHeader"), executedAnyway),
		perAPI("a PUT whose preflight passed but whose answer lacks Allow-Origin ran on the server", both,
			harness.Request{Method: "PUT", Policy: servers.Policy{Preflight: &servers.Policy{AllowOrigin: echo, AllowMethods: []string{"PUT"}}}},
			preflight, blocked("MissingAllowOriginHeader"), executedAnyway),
	))
})

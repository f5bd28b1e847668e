package specs_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/matchers"
	"github.com/corslab/corslab/harness/verdict"
	"github.com/corslab/corslab/servers"
)

// The canary fails if any chosen engine stops enforcing CORS, for example
// when someone launches it with web security off: everything else corslab
// reports would then be meaningless. It runs in every chosen engine, in
// every run.
var _ = Describe("the canary", Label("canary", "engines"), func() {
	It("every engine hides a response that has no Access-Control-Allow-Origin", acrossEngines, func(ctx SpecContext) {
		e := enginesEnv(ctx, "")
		each(func(engine verdict.Engine) {
			r, err := e.In(engine).Do(ctx, harness.Request{Method: "GET"})
			Expect(err).NotTo(HaveOccurred())
			Expect(r.Engine).To(Equal(engine))
			Expect(r).To(matchers.BeBlockedWith(verdict.MissingAllowOriginHeader))
			Expect(r).To(matchers.BeExecutedDespiteBlock())
			Expect(r.Page.ResponseText).To(BeEmpty(), "a browser that enforces CORS never shows the body")
		})
	})

	It("every engine refuses a preflighted request whose preflight does not allow it", acrossEngines, func(ctx SpecContext) {
		e := enginesEnv(ctx, "")
		each(func(engine verdict.Engine) {
			r, err := e.In(engine).Do(ctx, harness.Request{Method: "PUT", Policy: servers.Policy{AllowOrigin: []string{servers.Echo}}})
			Expect(err).NotTo(HaveOccurred())
			Expect(r).To(matchers.BeBlockedWith(verdict.MethodDisallowedByPreflightResponse, "PUT"))
			Expect(r.Server.Actuals()).To(BeEmpty(), "the PUT itself must never reach the server")
		})
	})
})

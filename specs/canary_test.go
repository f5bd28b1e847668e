package specs_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/matchers"
	"github.com/corslab/corslab/servers"
)

// The canary fails if the browser stops enforcing CORS, for example when
// someone launches it with --disable-web-security: everything else corslab
// reports would then be meaningless.
var _ = Describe("the canary", Label("canary"), func() {
	It("Chrome hides a response that has no Access-Control-Allow-Origin", within, func(ctx SpecContext) {
		r, err := env.Do(ctx, harness.Request{Method: "GET"})
		Expect(err).NotTo(HaveOccurred())
		Expect(r).To(matchers.BeBlockedWith("MissingAllowOriginHeader"))
		Expect(r).To(matchers.BeExecutedDespiteBlock())
		Expect(r.Page.ResponseText).To(BeEmpty(), "a browser that enforces CORS never shows the body")
	})

	It("Chrome refuses a preflighted request whose preflight does not allow it", within, func(ctx SpecContext) {
		r, err := env.Do(ctx, harness.Request{Method: "PUT", Policy: servers.Policy{AllowOrigin: []string{servers.Echo}}})
		Expect(err).NotTo(HaveOccurred())
		Expect(r).To(matchers.BeBlockedWith("MethodDisallowedByPreflightResponse", "PUT"))
		Expect(r.Server.Actuals()).To(BeEmpty(), "the PUT itself must never reach the server")
	})
})

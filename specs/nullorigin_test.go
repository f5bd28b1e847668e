package specs_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/corslab/corslab/harness"
	. "github.com/corslab/corslab/harness/matchers"
	"github.com/corslab/corslab/servers"
)

// Section G2: a page whose origin is not a host. The page origin serves the
// runner page with a CSP sandbox: its origin is opaque and its requests
// carry Origin: null.
//
// One sandboxed tab serves the container (Ordered, so one ginkgo process):
// as in Env.Do's shared tab, each request has its own token, so its own
// preflight-cache entry.
var _ = Describe("a sandboxed page: Origin null (section G2)", Ordered, SpecPriority(longFirst), func() {
	var tab *harness.Session
	BeforeAll(func(ctx SpecContext) {
		s, err := env.NewSession(ctx)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(s.Close)
		tab, err = s.NewSandboxedTab(ctx)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(tab.Close)
	}, NodeTimeout(30*time.Second))

	DescribeTable("in real Chrome",
		func(ctx SpecContext, api string, allowOrigin []string, ms ...types.GomegaMatcher) {
			r, err := tab.Do(ctx, harness.Request{API: api, Policy: servers.Policy{AllowOrigin: allowOrigin}})
			Expect(err).NotTo(HaveOccurred())
			Expect(r).To(ComeFromPageOrigin(), "Origin: null")
			for _, m := range ms {
				Expect(r).To(m)
			}
		},
		Entry("Allow-Origin null is allowed (xhr)", harness.XHR, []string{"null"}, BeAllowed(), within),
		Entry("Allow-Origin null is allowed (fetch)", harness.Fetch, []string{"null"}, BeAllowed(), within),
		Entry("Allow-Origin * is allowed (xhr)", harness.XHR, []string{"*"}, BeAllowed(), within),
		Entry("Allow-Origin * is allowed (fetch)", harness.Fetch, []string{"*"}, BeAllowed(), within),
		Entry("an origin in Allow-Origin does not match null: AllowOriginMismatch (xhr)", harness.XHR, []string{"http://127.0.0.1:1"}, BeBlockedWith("AllowOriginMismatch"), within),
	)
})

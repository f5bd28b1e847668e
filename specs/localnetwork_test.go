package specs_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/expect"
	"github.com/corslab/corslab/harness/matchers"
	"github.com/corslab/corslab/servers"
)

// Local Network Access: --ip-address-space-overrides=<page addr>=public makes
// the page origin count as public, so its requests to the loopback API are
// local-network requests. Headless Chrome has no prompt: the permission is
// granted with Browser.setPermission (harness Session.Grant).
// Ordered: its specs run on one ginkgo process, so each public-page Chrome
// starts once per run, not once per process.
var _ = Describe("Local Network Access (Chrome only, not in the Fetch standard)", Ordered, SpecPriority(longFirst), func() {
	allowed := servers.Policy{AllowOrigin: echo, AllowMethods: []string{"PUT"}}

	DescribeTable("Chrome's CorsError reasons a public page produces", Label("corserror"), expectCorsError,
		corsErrorEntries(publicPage, publicInsecurePage))

	DescribeTable("a public page reaching loopback",
		func(ctx SpecContext, api, method string, grant bool) {
			e := extraEnv(ctx, publicPage)
			s, err := e.NewSession(ctx)
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(s.Close)
			if grant {
				Expect(s.Grant(ctx, harness.LoopbackNetwork)).To(Succeed())
			}
			r, err := s.Do(ctx, harness.Request{API: api, Method: method, Policy: allowed})
			Expect(err).NotTo(HaveOccurred())
			if !grant {
				Expect(r).To(matchers.BeBlockedWith("LocalNetworkAccessPermissionDenied"))
				Expect(r.Server.Entries).To(BeEmpty(), "refused before the wire: the server received nothing")
				Expect(r.Browser.ErrorText).To(Equal("net::ERR_FAILED"))
				return
			}
			Expect(r).To(matchers.BeAllowed())
			Expect(r.Preflighted()).To(Equal(method == "PUT"), "the permission replaces the old Private Network Access preflight: only CORS decides")
			for _, x := range []*harness.Exchange{r.Browser.Preflight, r.Browser.Actual} {
				if x != nil {
					Expect(x.RequestHeaders).NotTo(HaveKey("access-control-request-private-network"))
					Expect(x.RequestHeaders).NotTo(HaveKey("access-control-request-local-network"))
				}
			}
		},
		Entry("refused without the permission: LocalNetworkAccessPermissionDenied (XHR GET)", harness.XHR, "GET", false, within),
		Entry("refused without the permission: LocalNetworkAccessPermissionDenied (fetch PUT)", harness.Fetch, "PUT", false, within),
		Entry("allowed once loopback-network is granted, with no extra preflight (XHR GET)", harness.XHR, "GET", true, within),
		Entry("allowed once loopback-network is granted, only the CORS preflight (fetch PUT)", harness.Fetch, "PUT", true, within),
	)

	// The same in an expectations file: grant and target-address-space.
	It("an expectations file grants loopback-network and names a target address space", within, func(ctx SpecContext) {
		f, err := expect.Parse("lna.yaml", []byte(`cases:
  - name: refused without the grant
    request: {api: fetch, policy: {allow-origin: $origin}}
    expect: {result: blocked, reason: LocalNetworkAccessPermissionDenied}
  - name: allowed with it
    grant: [loopback-network]
    request: {api: fetch, target-address-space: loopback, policy: {allow-origin: $origin}}
    expect: allowed
  - name: a wrong target address space
    grant: [loopback-network]
    request: {api: fetch, target-address-space: local, policy: {allow-origin: $origin}}
    expect: {result: blocked, reason: InvalidLocalNetworkAccess}
`))
		Expect(err).NotTo(HaveOccurred())
		e := extraEnv(ctx, publicPage)
		for _, c := range f.Cases {
			out, err := expect.Run(ctx, e, c)
			Expect(err).NotTo(HaveOccurred())
			Expect(out.Passed()).To(BeTrue(), out.Report())
		}
	})

	It("the local-network-access and local-network permissions do not let a public page reach loopback", within, func(ctx SpecContext) {
		e := extraEnv(ctx, publicPage)
		s, err := e.NewSession(ctx)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(s.Close)
		Expect(s.Grant(ctx, "local-network-access")).To(Succeed())
		Expect(s.Grant(ctx, "local-network")).To(Succeed())
		r, err := s.Do(ctx, harness.Request{Policy: allowed})
		Expect(err).NotTo(HaveOccurred())
		Expect(r).To(matchers.BeBlockedWith("LocalNetworkAccessPermissionDenied"))
	})

	It("a public page that is not a secure context cannot be granted the permission: InsecureLocalNetwork", within, func(ctx SpecContext) {
		e := extraEnv(ctx, publicInsecurePage)
		s, err := e.NewSession(ctx)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(s.Close)
		Expect(s.Grant(ctx, harness.LoopbackNetwork)).To(MatchError(ContainSubstring("Permission can't be granted in current context")))
		r, err := s.Do(ctx, harness.Request{Policy: allowed})
		Expect(err).NotTo(HaveOccurred())
		Expect(r).To(matchers.BeBlockedWith("InsecureLocalNetwork"))
	})

	It(`fetch's targetAddressSpace must match where the server is: "local" for a loopback server is InvalidLocalNetworkAccess`, within, func(ctx SpecContext) {
		r, err := env.Do(ctx, harness.Request{API: harness.Fetch, TargetAddressSpace: "local", Policy: allowed})
		Expect(err).NotTo(HaveOccurred())
		Expect(r).To(matchers.BeBlockedWith("InvalidLocalNetworkAccess"))
		r, err = env.Do(ctx, harness.Request{API: harness.Fetch, TargetAddressSpace: "loopback", Policy: allowed})
		Expect(err).NotTo(HaveOccurred())
		Expect(r).To(matchers.BeAllowed(), `"loopback" is where it is`)
	})
})

package specs_test

import (
	"context"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/matchers"
	"github.com/corslab/corslab/servers"
)

// Section D: the preflight cache, with real seconds. Each spec has its own
// token (its own URL, so its own cache entry) and waits only for its own
// deadlines, so under `ginkgo -p` the waits overlap. Labelled slow.
var _ = Describe("the preflight cache", Label("slow"), SpecPriority(longFirst), func() {
	// A step sends the same PUT again (same token, same URL) and says whether
	// Chrome must answer its preflight from the cache.
	type step struct {
		after  time.Duration // when to send again (counted as the table body explains)
		cached bool
	}
	// Each entry runs its Max-Age values side by side (one token each,
	// requests interleaved), so values that share a deadline share the wait.
	DescribeTable("Access-Control-Max-Age decides how long an entry lives",
		func(ctx SpecContext, maxAges []string, steps []step) {
			// An entry's age counts from Chrome's receipt of the preflight
			// answer, somewhere between sent and answered: "still cached"
			// steps count from before the first request (the age is at most
			// that), "expired" steps from after it (the age is at least that).
			reqs := make([]harness.Request, len(maxAges))
			sent := time.Now()
			for i, m := range maxAges {
				_, numeric := strconv.Atoi(m)
				reqs[i] = harness.Request{Method: "PUT", Policy: servers.Policy{AllowOrigin: echo, AllowMethods: []string{"PUT"}, MaxAge: m, MaxAgeRaw: numeric != nil}}
				first, err := env.Do(ctx, reqs[i])
				Expect(err).NotTo(HaveOccurred())
				Expect(first).To(matchers.BeAllowed())
				Expect(first).To(matchers.BePreflighted())
				reqs[i].Token = first.Token
			}
			answered := time.Now()
			for _, s := range steps {
				from := answered
				if s.cached {
					from = sent
				}
				Expect(waitUntil(ctx, from.Add(s.after))).To(Succeed())
				for i, req := range reqs {
					r, err := env.Do(ctx, req)
					Expect(err).NotTo(HaveOccurred())
					Expect(r).To(matchers.BeAllowed())
					if s.cached {
						Expect(r).To(matchers.UseCachedPreflight(), "Max-Age %q at %s", maxAges[i], s.after)
					} else {
						Expect(r).To(matchers.BePreflighted(), "Max-Age %q at %s", maxAges[i], s.after)
					}
				}
			}
		},
		Entry("Max-Age 1: cached at once, preflighted again after 1.2 s", []string{"1"}, []step{{0, true}, {1200 * time.Millisecond, false}}, within),
		Entry(`no Max-Age, and an unparsable one ("soon"): Chrome caches 5 s (cached at 3 s, preflighted at 5.3 s)`, []string{"", "soon"},
			[]step{{0, true}, {3 * time.Second, true}, {5300 * time.Millisecond, false}}, within),
		Entry("Max-Age 0: never cached", []string{"0"}, []step{{0, false}}, within),
		// The conformance tests (web-platform-tests cors/preflight-cache.htm) say so too.
		Entry("Max-Age -1: never cached", []string{"-1"}, []step{{0, false}}, within),
	)

	It("an entry for PUT does not cover PATCH: a new preflight goes out", within, func(ctx SpecContext) {
		req := harness.Request{Method: "PUT", Policy: servers.Policy{AllowOrigin: echo, AllowMethods: []string{"PUT"}, MaxAge: "60"}}
		first, err := env.Do(ctx, req)
		Expect(err).NotTo(HaveOccurred())
		Expect(first).To(matchers.BeAllowed())
		req.Token, req.Method = first.Token, "PATCH"
		r, err := env.Do(ctx, req)
		Expect(err).NotTo(HaveOccurred())
		Expect(r).To(matchers.BePreflighted())
		Expect(r).To(matchers.BeBlockedWith("MethodDisallowedByPreflightResponse", "PATCH"))
	})

	It("an entry for header X-A does not cover X-B: a new preflight goes out", within, func(ctx SpecContext) {
		req := harness.Request{Method: "PUT", Headers: []servers.Header{{Name: "X-A", Value: "1"}},
			Policy: servers.Policy{AllowOrigin: echo, AllowMethods: []string{"PUT"}, AllowHeaders: []string{"X-A"}, MaxAge: "60"}}
		first, err := env.Do(ctx, req)
		Expect(err).NotTo(HaveOccurred())
		Expect(first).To(matchers.BeAllowed())
		req.Token = first.Token
		again, err := env.Do(ctx, req)
		Expect(err).NotTo(HaveOccurred())
		Expect(again).To(matchers.UseCachedPreflight())
		req.Headers = []servers.Header{{Name: "X-B", Value: "1"}}
		r, err := env.Do(ctx, req)
		Expect(err).NotTo(HaveOccurred())
		Expect(r).To(matchers.BePreflighted())
		Expect(r).To(matchers.BeBlockedWith("HeaderDisallowedByPreflightResponse", "x-b"))
	})

	It("a non-credentialed entry does not cover a credentialed request; the credentialed entry then covers both", within, func(ctx SpecContext) {
		req := harness.Request{Method: "PUT", Policy: servers.Policy{AllowOrigin: echo, AllowCredentials: "true", AllowMethods: []string{"PUT"}, MaxAge: "60"}}
		first, err := env.Do(ctx, req)
		Expect(err).NotTo(HaveOccurred())
		Expect(first).To(matchers.BePreflighted())
		req.Token, req.Credentials = first.Token, true
		cred, err := env.Do(ctx, req)
		Expect(err).NotTo(HaveOccurred())
		Expect(cred).To(matchers.BeAllowed())
		Expect(cred).To(matchers.BePreflighted(), "the credentialed request preflights again")
		req.Credentials = false
		plain, err := env.Do(ctx, req)
		Expect(err).NotTo(HaveOccurred())
		Expect(plain).To(matchers.UseCachedPreflight(), "the credentialed entry covers a non-credentialed request")
	})

	It("tabs of one browser context share the cache: another tab uses the entry", within, func(ctx SpecContext) {
		s, err := env.NewSession(ctx)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(s.Close)
		req := harness.Request{Method: "PUT", Policy: servers.Policy{AllowOrigin: echo, AllowMethods: []string{"PUT"}, MaxAge: "60"}}
		first, err := s.Do(ctx, req)
		Expect(err).NotTo(HaveOccurred())
		Expect(first).To(matchers.BePreflighted())
		tab, err := s.NewTab(ctx)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(tab.Close)
		req.Token = first.Token
		other, err := tab.Do(ctx, req)
		Expect(err).NotTo(HaveOccurred())
		Expect(other).To(matchers.BeAllowed())
		Expect(other).To(matchers.UseCachedPreflight(), "another tab of the same context")
	})

	It("browser contexts do not share the cache: a new context preflights again", within, func(ctx SpecContext) {
		req := harness.Request{Method: "PUT", Policy: servers.Policy{AllowOrigin: echo, AllowMethods: []string{"PUT"}, MaxAge: "60"}}
		first, err := env.Do(ctx, req)
		Expect(err).NotTo(HaveOccurred())
		Expect(first).To(matchers.BePreflighted())
		req.Token = first.Token
		same, err := env.Do(ctx, req)
		Expect(err).NotTo(HaveOccurred())
		Expect(same).To(matchers.UseCachedPreflight(), "same context")
		s, err := env.NewSession(ctx)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(s.Close)
		other, err := s.Do(ctx, req)
		Expect(err).NotTo(HaveOccurred())
		Expect(other).To(matchers.BePreflighted(), "another browser context")
	})

	It("Chrome never caches the preflight of a URL of 1024 or more characters (Chrome's limit, not in the Fetch standard)", within, func(ctx SpecContext) {
		req := harness.Request{Method: "PUT", Path: "/" + strings.Repeat("a", 1024), Policy: servers.Policy{AllowOrigin: echo, AllowMethods: []string{"PUT"}, MaxAge: "60"}}
		first, err := env.Do(ctx, req)
		Expect(err).NotTo(HaveOccurred())
		Expect(first).To(matchers.BePreflighted())
		req.Token = first.Token
		again, err := env.Do(ctx, req)
		Expect(err).NotTo(HaveOccurred())
		Expect(again).To(matchers.BeAllowed())
		Expect(again).To(matchers.BePreflighted())
	})
})

// waitUntil waits for the wall clock to reach t: the cache is measured in
// real seconds and no event marks an entry's expiry.
func waitUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

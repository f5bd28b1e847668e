package specs_test

import (
	"math/rand/v2"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/bench"
	"github.com/corslab/corslab/harness/matchers"
	"github.com/corslab/corslab/servers"
)

// corslab keeps scenarios apart by their tokens (docs/decisions): these specs
// prove that isolation honest, in one shared tab, where it could leak.
var _ = Describe("isolation between scenarios in one tab", func() {
	echo := []string{servers.Echo}
	put := harness.Request{Method: "PUT", Policy: servers.Policy{AllowOrigin: echo, AllowMethods: []string{"PUT"}, MaxAge: "600"}}

	It("a cached preflight of one scenario never serves another", within, func(ctx SpecContext) {
		first, err := env.Do(ctx, put)
		Expect(err).NotTo(HaveOccurred())
		Expect(first).To(matchers.BePreflighted())
		repeat := put
		repeat.Token = first.Token
		cached, err := env.Do(ctx, repeat)
		Expect(err).NotTo(HaveOccurred())
		Expect(cached).To(matchers.UseCachedPreflight(), "the entry exists: the same scenario reuses it")
		other, err := env.Do(ctx, put)
		Expect(err).NotTo(HaveOccurred())
		Expect(other).To(matchers.BePreflighted(), "an identical request of another scenario must preflight itself")
		Expect(other).To(matchers.BeAllowed())
	})

	It("a cookie of one scenario is never sent by another", within, func(ctx SpecContext) {
		cred := servers.Policy{AllowOrigin: echo, AllowCredentials: "true"}
		setter := cred
		setter.SetCookie = []string{"scenario=a"}
		set, err := env.Do(ctx, harness.Request{Credentials: true, Policy: setter})
		Expect(err).NotTo(HaveOccurred())
		Expect(set).To(matchers.BeAllowed())
		own, err := env.Do(ctx, harness.Request{Credentials: true, Policy: cred, Token: set.Token})
		Expect(err).NotTo(HaveOccurred())
		Expect(own).To(matchers.SendCookies("scenario"), "the cookie exists: its own scenario sends it")
		other, err := env.Do(ctx, harness.Request{Credentials: true, Policy: cred})
		Expect(err).NotTo(HaveOccurred())
		Expect(other).To(matchers.SendCookies(), "another scenario must not carry it")
	})

	It("gives the same results in sequential, shuffled and parallel order", within, func(ctx SpecContext) {
		kinds := append(append([]harness.Scenario{}, bench.Kinds...), bench.Kinds...)
		fingerprint := func(r harness.Result) string {
			return r.Verdict().String() + "|" + r.Page.Event + "|" + string(rune('0'+len(r.Server.Preflights())))
		}
		run := func(order []int, play func(harness.Scenario) ([]harness.Result, error)) []string {
			out := make([]string, len(kinds))
			for _, i := range order {
				rs, err := play(kinds[i])
				Expect(err).NotTo(HaveOccurred())
				Expect(bench.Check(kinds[i], rs...)).To(Succeed())
				out[i] = fingerprint(rs[0])
			}
			return out
		}
		seq := make([]int, len(kinds))
		for i := range seq {
			seq[i] = i
		}
		envPlay := func(sc harness.Scenario) ([]harness.Result, error) { return env.Play(ctx, sc) }
		sequential := run(seq, envPlay)
		shuffled := run(rand.Perm(len(kinds)), envPlay)

		// Parallel: three sessions at once, each sending every kind.
		parallel := make([][]string, 3)
		var wg sync.WaitGroup
		for p := range parallel {
			s, err := env.NewSession(ctx)
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(s.Close)
			wg.Go(func() {
				defer GinkgoRecover()
				parallel[p] = run(rand.Perm(len(kinds)), func(sc harness.Scenario) ([]harness.Result, error) { return s.Play(ctx, sc) })
			})
		}
		wg.Wait()
		Expect(shuffled).To(Equal(sequential))
		for _, p := range parallel {
			Expect(p).To(Equal(sequential))
		}
	})
})

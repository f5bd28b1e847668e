package specs_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/rs/cors"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/expect"
	"github.com/corslab/corslab/harness/verdict"
	"github.com/corslab/corslab/servers"
)

// An expectations file's cases run the way `corslab check` runs them:
// expect.Run → Env.Play, a warm page per origin, cases kept apart by their
// tokens, a context of their own only when their isolation needs one
// (docs/decisions/2026-12-01-cases-at-scenario-cost.md). These specs prove
// the rule: no case's cookie or cached preflight reaches another, and the
// results are the same run one at a time, shuffled, and all at once.
var _ = Describe("an expectations file's cases", Label("cases"), Ordered, func() {
	// The user's server (third-party cookies allowed, so the impersonated
	// pages may send its cookies): rs/cors trusting two origins, with credentials, a
	// preflight cache of 10 minutes, and an application that sets a cookie
	// on /login and reports on /me the cookies it received.
	trusted := []string{"https://app.example.com", "https://admin.example.com"}
	api := func() http.Handler {
		mux := http.NewServeMux()
		mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
			http.SetCookie(w, &http.Cookie{Name: "sid", Value: "1", Path: "/", Secure: true, SameSite: http.SameSiteNoneMode})
		})
		mux.HandleFunc("/me", func(w http.ResponseWriter, r *http.Request) {
			var names []string
			for _, c := range r.Cookies() {
				names = append(names, c.Name)
			}
			fmt.Fprintf(w, "cookies: %s", strings.Join(names, ","))
		})
		return cors.New(cors.Options{AllowedOrigins: trusted, AllowCredentials: true, MaxAge: 600,
			AllowedMethods: []string{"GET", "PUT"}, AllowedHeaders: []string{"X-Trace"}}).Handler(servers.App(mux))
	}

	// The file: cookies stored by one case and absent in the next, a
	// preflight cached within one case and asked again by the next, from
	// two origins, each case twice so the pairs interleave when shuffled.
	const file = `
cases:
  - name: a case that stores the API's cookie sends it
    from: https://app.example.com
    cookies: ["sid=1; Secure; SameSite=None; Path=/"]
    request: {url: /me, credentials: true}
    expect: {result: allowed, cookies-sent: [sid], text: "cookies: sid"}
  - name: the next case from the same origin has no cookie
    from: https://app.example.com
    request: {url: /me, credentials: true}
    expect: {result: allowed, cookies-sent: [], text: "cookies: "}
  - name: a case whose answer sets a cookie
    from: https://admin.example.com
    sends:
      - request: {url: /login, credentials: true}
        expect: {result: allowed}
      - request: {url: /me, credentials: true}
        expect: {result: allowed}
  - name: the next case from that origin has none of it
    from: https://admin.example.com
    request: {url: /me, credentials: true}
    expect: {result: allowed, cookies-sent: []}
  - name: a preflight is cached within its case
    from: https://app.example.com
    sends:
      - request: {url: /items, method: PUT, body: x, headers: {X-Trace: "1"}}
        expect: {result: allowed, preflight: yes}
      - reuse: 1
        expect: {result: allowed, preflight-cached: yes}
  - name: the same request in the next case is preflighted again
    from: https://app.example.com
    request: {url: /items, method: PUT, body: x, headers: {X-Trace: "1"}}
    expect: {result: allowed, preflight: yes}
  - name: an untrusted origin is refused at the preflight
    from: https://evil.example.org
    request: {url: /items, method: PUT, body: x, headers: {X-Trace: "1"}}
    expect: {result: blocked, reason: PreflightMissingAllowOriginHeader, preflight: yes}
`
	var e *harness.Env
	var cases []harness.Scenario
	BeforeAll(func(ctx SpecContext) {
		f, err := expect.Parse("cases.yaml", []byte(file))
		Expect(err).NotTo(HaveOccurred())
		cases = append(f.Cases, f.Cases...)
		e, err = harness.Start(ctx, harness.Options{Engines: []verdict.Engine{verdict.Chromium}, WarmSessions: -1, ShareBrowser: true, ThirdPartyCookies: true,
			Servers: servers.Options{API: api(), AppMarked: true}})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(e.Close)
	}, within)

	// summary is what a case did, send by send, in the three views: what must
	// not depend on the order or the company the case ran in.
	summary := func(o expect.Outcome) string {
		var sb strings.Builder
		fmt.Fprintf(&sb, "%s: passed=%v", o.Case.Name, o.Passed())
		for _, r := range o.Results {
			fmt.Fprintf(&sb, " | %s preflighted=%v cached=%v cookies=%v text=%q", strings.Join(strings.Fields(r.Verdict().String()), " "),
				r.Preflighted(), r.PreflightFromCache(), r.CookiesSent(), r.Page.ResponseText)
		}
		return sb.String()
	}
	run := func(ctx SpecContext, order []int, concurrent bool) []string {
		out := make([]string, len(cases))
		var wg sync.WaitGroup
		for _, i := range order {
			f := func() {
				defer GinkgoRecover()
				o, err := expect.Run(ctx, e, cases[i])
				Expect(err).NotTo(HaveOccurred())
				Expect(o.Passed()).To(BeTrue(), "%s", o.Report())
				out[i] = summary(o)
			}
			if concurrent {
				wg.Go(f)
			} else {
				f()
			}
		}
		wg.Wait()
		return out
	}
	var sequential []string

	It("pass one at a time, in the file's order", func(ctx SpecContext) {
		order := make([]int, len(cases))
		for i := range order {
			order[i] = i
		}
		sequential = run(ctx, order, false)
	}, within)

	It("do the same shuffled", func(ctx SpecContext) {
		Expect(sequential).NotTo(BeEmpty(), "the sequential run comes first (Ordered)")
		order := rand.Perm(len(cases))
		Expect(run(ctx, order, false)).To(Equal(sequential), "order %v", order)
	}, within)

	It("do the same all at once", func(ctx SpecContext) {
		Expect(sequential).NotTo(BeEmpty(), "the sequential run comes first (Ordered)")
		Expect(run(ctx, rand.Perm(len(cases)), true)).To(Equal(sequential))
	}, within)
})

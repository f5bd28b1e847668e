package specs_test

import (
	"context"
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/corslab/corslab/harness"
	. "github.com/corslab/corslab/harness/matchers"
	"github.com/corslab/corslab/harness/verdict"
	"github.com/corslab/corslab/servers"
)

// A response that reflects the origin without Vary: Origin, cached by the
// browser: two same-site origins in one browser context share its HTTP
// cache, so the second origin's page is served the first origin's answer.
var _ = Describe("the HTTP cache and a reflected origin", Ordered, func() {
	const first, second = "https://app.example.com", "https://admin.example.com"
	var own *harness.Env
	BeforeAll(func(ctx SpecContext) {
		// Reflects any Origin, lets the answer be cached for a minute, and
		// forgets Vary: Origin, as many hand-written CORS handlers do.
		reflect := func(vary bool) http.Handler {
			return servers.App(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
				w.Header().Set("Cache-Control", "max-age=60")
				if vary {
					w.Header().Set("Vary", "Origin")
				}
				_, _ = w.Write([]byte(`{"profile":"ada"}`))
			}))
		}
		mux := http.NewServeMux()
		mux.Handle("/no-vary", reflect(false))
		mux.Handle("/vary", reflect(true))
		var err error
		own, err = harness.Start(ctx, harness.Options{Engines: []verdict.Engine{verdict.Chromium}, ShareBrowser: true, WarmSessions: -1,
			Servers: servers.Options{API: mux}})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(own.Close)
	})

	// twoOrigins sends req from first, then the same URL from second in
	// another tab of the same browser context, and returns both Results.
	twoOrigins := func(ctx context.Context, req harness.Request) (harness.Result, harness.Result) {
		a, err := own.NewSessionAs(ctx, first)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(a.Close)
		b, err := a.NewTabAs(ctx, second)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(b.Close)
		r1, err := a.Do(ctx, req)
		Expect(err).NotTo(HaveOccurred())
		req.Token = r1.Token // the same URL
		r2, err := b.Do(ctx, req)
		Expect(err).NotTo(HaveOccurred())
		return r1, r2
	}

	It("without Vary: Origin, the second origin is served the first origin's cached answer: AllowOriginMismatch naming the first", within, func(ctx SpecContext) {
		r1, r2 := twoOrigins(ctx, harness.Request{API: harness.Fetch, URL: "/no-vary"})
		Expect(r1).To(BeAllowed())
		Expect(r1.Notes).To(ContainElement(ContainSubstring("without Vary: Origin")), "a warning on the reflecting answer\n%s", r1)
		Expect(r2).To(BeBlockedWith("AllowOriginMismatch", first))
		Expect(r2.Browser.Actual.FromCache).To(BeTrue(), "the answer came from Chromium's HTTP cache\n%s", r2)
		Expect(r2.Server.Actuals()).To(BeEmpty(), "the server was not asked the second time")
		Expect(r2.String()).To(ContainSubstring("answered from Chromium's HTTP cache"))
		Expect(r2.Explain()).To(ContainSubstring("Vary: Origin"))
		Expect(r2.Predicted.NotModelled).To(ContainSubstring("no response headers"), "Chromium reports none of a blocked cached response's headers\n%s", r2)
	})

	It("with Vary: Origin, each origin gets its own answer", within, func(ctx SpecContext) {
		r1, r2 := twoOrigins(ctx, harness.Request{API: harness.Fetch, URL: "/vary"})
		Expect(r1).To(BeAllowed())
		Expect(r1).To(VaryOnOrigin())
		Expect(r1.Notes).NotTo(ContainElement(ContainSubstring("without Vary: Origin")))
		Expect(r2).To(BeAllowed())
		Expect(r2.Server.Actuals()).To(HaveLen(1), "the server answered the second origin itself")
	})
})

// A header value with a control byte (0x01): the browser sends it, Go's HTTP
// server answers 400 before any handler, and no CORS header is to blame.
var _ = It("a request header value with a control byte is refused by Go's server before any handler, and Explain says so", within, func(ctx SpecContext) {
	r, err := env.Do(ctx, harness.Request{Headers: []servers.Header{{Name: "X-A", Value: "a\x01b"}},
		Policy: servers.Policy{AllowOrigin: []string{servers.Echo}, AllowHeaders: []string{"X-A"}}})
	Expect(err).NotTo(HaveOccurred())
	Expect(r).To(BeBlockedWith("MissingAllowOriginHeader"), "Go's 400 carries no CORS headers")
	Expect(r.Server.Actuals()).To(BeEmpty(), "no handler saw it")
	Expect(r.Explain()).To(ContainSubstring("before any handler ran"))
	Expect(r.Explain()).NotTo(ContainSubstring("must carry Access-Control-Allow-Origin"))
})

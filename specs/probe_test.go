package specs_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	gincors "github.com/gin-contrib/cors"
	"github.com/gin-gonic/gin"
	chicors "github.com/go-chi/cors"
	"github.com/gorilla/handlers"
	jcors "github.com/jub0bs/cors"
	echov4 "github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/rs/cors"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/expect"
	"github.com/corslab/corslab/harness/probe"
	"github.com/corslab/corslab/harness/verdict"
	"github.com/corslab/corslab/servers"
)

// probed is the application behind every configuration probe is pointed
// at: it answers every method, marks itself with servers.App (so the
// journal knows when it ran), and lets caches keep its answers (no
// Cache-Control), so a missing Vary: Origin matters.
func probed() http.Handler {
	return servers.App(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok "+r.Method)
	}))
}

// safeSwitch flips /switch/ from the vulnerable rs/cors suffix check to the
// exact list: the one policy change an expectations file must catch.
var safeSwitch atomic.Bool

// probeAPI mounts real middlewares, each in a configuration that lets an
// attacker in one way (or none), under a path of its own.
func probeAPI() http.Handler {
	mux := http.NewServeMux()
	anyOrigin := func(*http.Request, string) bool { return true }
	mux.Handle("/chi-any/", chicors.Handler(chicors.Options{AllowOriginFunc: anyOrigin, AllowCredentials: true})(probed()))
	mux.Handle("/rs-null/", cors.New(cors.Options{AllowedOrigins: []string{app, "null"}, AllowCredentials: true}).Handler(probed()))
	mux.Handle("/gorilla-prefix/", handlers.CORS(
		handlers.AllowedOriginValidator(func(o string) bool { return strings.HasPrefix(o, app) }),
		handlers.AllowCredentials())(probed()))
	suffix := cors.New(cors.Options{AllowOriginFunc: func(o string) bool { return strings.HasSuffix(o, "example.com") }, AllowCredentials: true}).Handler(probed())
	exact := cors.New(cors.Options{AllowedOrigins: []string{app}, AllowCredentials: true}).Handler(probed())
	mux.Handle("/rs-suffix/", suffix)
	mux.Handle("/rs/", exact)
	mux.Handle("/switch/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if safeSwitch.Load() {
			exact.ServeHTTP(w, r)
			return
		}
		suffix.ServeHTTP(w, r)
	}))
	mux.Handle("/gin-regex/", ginWith(gincors.Config{AllowOrigins: []string{"/^https://app.example.com$/"}, AllowCredentials: true}))
	mux.Handle("/gin-all/", ginWith(gincors.Config{AllowAllOrigins: true, AllowCredentials: true}))
	mux.Handle("/gin-strict/", ginWith(gincors.Config{AllowOrigins: []string{app}, AllowMethods: []string{"GET", "POST"}, AllowCredentials: true}))
	e := echov4.New()
	e.Group("/echo-contains", echomw.CORSWithConfig(echomw.CORSConfig{
		AllowOriginFunc:  func(o string) (bool, error) { return strings.Contains(o, "app.example.com"), nil },
		AllowCredentials: true,
	})).Any("/*", echov4.WrapHandler(probed()))
	mux.Handle("/echo-contains/", e)
	mux.Handle("/chi-host/", chicors.Handler(chicors.Options{AllowCredentials: true, AllowOriginFunc: func(_ *http.Request, o string) bool {
		u, err := url.Parse(o)
		return err == nil && u.Host == "app.example.com" // the scheme is forgotten
	}})(probed()))
	mux.Handle("/chi-sub/", chicors.Handler(chicors.Options{AllowedOrigins: []string{"https://*.example.com"}, AllowCredentials: true})(probed()))
	mux.Handle("/rs-thirdparty/", cors.New(cors.Options{AllowedOrigins: []string{app, "https://*.github.io"}, AllowCredentials: true}).Handler(probed()))
	// The application sets the header too: two layers, two values.
	mux.Handle("/rs-twice/", cors.New(cors.Options{AllowedOrigins: []string{app}}).Handler(servers.App(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Access-Control-Allow-Origin", app)
		_, _ = io.WriteString(w, "ok")
	}))))
	mux.Handle("/gorilla-exact/", handlers.CORS(handlers.AllowedOrigins([]string{app}), handlers.AllowCredentials())(probed()))
	jub, err := jcors.NewMiddleware(jcors.Config{Origins: []string{app}, Credentialed: true, Methods: []string{http.MethodGet, http.MethodPut}})
	if err != nil {
		panic(err) // a valid configuration: a tree-construction failure says what changed
	}
	mux.Handle("/jub0bs/", jub.Wrap(probed()))
	mux.Handle("/redirect/", http.RedirectHandler("/rs-suffix/items", http.StatusFound))
	mux.Handle("/redirect-off/", http.RedirectHandler("https://elsewhere.example.org/items", http.StatusFound))
	return mux
}

// ginWith is gin with gin-contrib/cors in config c, under every path.
func ginWith(c gincors.Config) http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(gincors.New(c))
	r.Any("/*path", gin.WrapH(probed()))
	return r
}

// probeEngines are the engines the probe specs below run in: the chosen
// ones but WebKit, when there are others. A WebKit context is a MiniBrowser
// process (~0.3 GB, ~1 s to start), and a probe opens one per attacker
// origin, so the whole table in WebKit costs minutes; WebKit's own probe
// spec (below) shows one class found there, and what its default does
// with the victim's cookie.
func probeEngines() []verdict.Engine {
	if len(chosen) == 1 {
		return chosen
	}
	return slices.DeleteFunc(slices.Clone(chosen), func(e verdict.Engine) bool { return e == verdict.WebKit })
}

// victim is the cookie the probes store as the API's: SameSite=None; Secure,
// the only kind a cross-site page's request carries (where third-party
// cookies are allowed).
const victim = "sid=1; SameSite=None; Secure"

var _ = Describe("corslab probe against real middlewares", Label("probe", "engines"), Ordered, SpecPriority(longFirst), func() {
	// worst: third-party cookies allowed; def: each engine's default. Both
	// mount probeAPI, in every chosen engine.
	var worst, def *harness.Env
	BeforeAll(func(ctx SpecContext) {
		cfg := probe.Config{Handler: probeAPI(), AppMarked: true, Engines: probeEngines()}
		for _, thirdParty := range []bool{true, false} {
			opts, err := probe.EnvOptions(ctx, cfg, thirdParty)
			Expect(err).NotTo(HaveOccurred())
			e, err := harness.Start(ctx, opts)
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(e.Close)
			if thirdParty {
				worst = e
			} else {
				def = e
			}
		}
	}, NodeTimeout(90*time.Second))

	// run probes one path; a probe asked for again (the same path, cookies
	// and methods) is not run again: the specs read its report.
	reports := map[string]*probe.Report{}
	run := func(ctx context.Context, path string, cookies bool, methods ...string) *probe.Report {
		GinkgoHelper()
		memo := fmt.Sprint(path, cookies, methods)
		if rep, ok := reports[memo]; ok {
			return rep
		}
		cfg := probe.Config{Trusted: app, Env: worst, DefaultEnv: def, Paths: []string{path}, Methods: methods}
		if cookies {
			cfg.Cookies = []string{victim}
		}
		p, err := probe.Start(ctx, cfg)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(p.Close)
		rep, err := p.Run(ctx, 4)
		Expect(err).NotTo(HaveOccurred())
		Expect(rep.Errors).To(BeEmpty())
		reports[memo] = rep
		return rep
	}
	text := func(rep *probe.Report) string {
		var b bytes.Buffer
		rep.WriteText(&b)
		return b.String()
	}
	found := func(rep *probe.Report) map[probe.Class]probe.Severity {
		out := map[probe.Class]probe.Severity{}
		for _, f := range rep.Findings {
			out[f.Class] = f.Severity
		}
		return out
	}

	DescribeTable("finds each class in a vulnerable configuration, in every engine, and nothing else",
		func(ctx SpecContext, path string, cookies bool, method string, want map[probe.Class]probe.Severity) {
			rep := run(ctx, path, cookies, method)
			Expect(found(rep)).To(Equal(want), text(rep))
			for _, f := range rep.Findings {
				Expect(f.Engines).To(ConsistOf(worst.Engines()), "%s holds in every engine\n%s", f.Class, text(rep))
				Expect(f.Evidence).NotTo(BeEmpty())
				Expect(f.Evidence[0].Transcript).To(ContainSubstring("from " + f.Origin))
			}
			Expect(rep.Summary()).To(MatchRegexp(`^probe: \d+ origins tried on 1 paths, %d findings`, len(want)))
		},
		Entry("reflected-origin: go-chi/cors AllowOriginFunc returning true, with credentials", "/chi-any/items", true, "GET",
			map[probe.Class]probe.Severity{probe.ReflectedOrigin: probe.High}, NodeTimeout(2*time.Minute)),
		Entry("null-origin: rs/cors with null in AllowedOrigins, with credentials", "/rs-null/items", true, "GET",
			map[probe.Class]probe.Severity{probe.NullOrigin: probe.High}, NodeTimeout(2*time.Minute)),
		Entry("prefix-match: gorilla/handlers with a prefix validator (and no Vary: Origin)", "/gorilla-prefix/items", false, "GET",
			map[probe.Class]probe.Severity{probe.PrefixMatch: probe.Medium, probe.MissingVaryOrigin: probe.Low}, NodeTimeout(2*time.Minute)),
		Entry("suffix-match: rs/cors AllowOriginFunc checking a suffix, with credentials", "/rs-suffix/items", true, "GET",
			map[probe.Class]probe.Severity{probe.SuffixMatch: probe.High}, NodeTimeout(2*time.Minute)),
		Entry("unescaped-dot: gin-contrib/cors with the regular expression ^https://app.example.com$", "/gin-regex/items", false, "GET",
			map[probe.Class]probe.Severity{probe.UnescapedDot: probe.Medium}, NodeTimeout(2*time.Minute)),
		Entry("substring-match: echo's AllowOriginFunc with strings.Contains", "/echo-contains/items", false, "GET",
			map[probe.Class]probe.Severity{probe.SubstringMatch: probe.Medium}, NodeTimeout(2*time.Minute)),
		Entry("http-origin-trusted: go-chi/cors AllowOriginFunc comparing the host only", "/chi-host/items", false, "GET",
			map[probe.Class]probe.Severity{probe.HTTPOriginTrusted: probe.Medium}, NodeTimeout(2*time.Minute)),
		Entry("any-subdomain: go-chi/cors with https://*.example.com", "/chi-sub/items", false, "GET",
			map[probe.Class]probe.Severity{probe.AnySubdomain: probe.Medium}, NodeTimeout(2*time.Minute)),
		Entry("third-party-origin: rs/cors with https://*.github.io left in the list", "/rs-thirdparty/items", false, "GET",
			map[probe.Class]probe.Severity{probe.ThirdPartyOrigin: probe.Medium}, NodeTimeout(2*time.Minute)),
		Entry("wildcard: gin-contrib/cors AllowAllOrigins with AllowCredentials (the answer is the public one: low)", "/gin-all/items", true, "GET",
			map[probe.Class]probe.Severity{probe.Wildcard: probe.Low}, NodeTimeout(2*time.Minute)),
		Entry("invalid-allow-origin: rs/cors, and the application adds the header again", "/rs-twice/items", false, "GET",
			map[probe.Class]probe.Severity{probe.InvalidAllowOrigin: probe.Low}, NodeTimeout(2*time.Minute)),
		Entry("executed-despite-block: rs/cors with an exact list runs an attacker's simple POST", "/rs/items", false, "POST",
			map[probe.Class]probe.Severity{probe.ExecutedDespiteBlock: probe.Low}, NodeTimeout(2*time.Minute)),
		Entry("missing-vary-origin: gorilla/handlers with one allowed origin reflects it without Vary: Origin", "/gorilla-exact/items", false, "GET",
			map[probe.Class]probe.Severity{probe.MissingVaryOrigin: probe.Low}, NodeTimeout(2*time.Minute)),
	)

	DescribeTable("reports nothing for a safe configuration",
		func(ctx SpecContext, path string, cookies bool, method string) {
			rep := run(ctx, path, cookies, method)
			Expect(rep.Findings).To(BeEmpty(), text(rep))
			Expect(rep.Trust).To(HaveEach(ContainSubstring("✓ allowed")), "the trusted origin reads it\n%s", text(rep))
			Expect(rep.Summary()).To(HaveSuffix(", 0 findings (0 high, 0 medium, 0 low)"))
		},
		Entry("jub0bs/cors with the trusted origin, credentialed", "/jub0bs/items", true, "GET", NodeTimeout(2*time.Minute)),
		Entry("rs/cors with an exact list, credentialed", "/rs/items", true, "GET", NodeTimeout(2*time.Minute)),
		Entry("gin-contrib/cors with an exact list answers an attacker's POST 403 before the application runs", "/gin-strict/items", false, "POST", NodeTimeout(2*time.Minute)),
	)

	It("proves a credentialed read only where the cookie went: under Chromium's and Firefox's default it is a read without the cookie, under WebKitGTK's the cookie still goes", func(ctx SpecContext) {
		rep := run(ctx, "/rs-suffix/items", true, "GET")
		Expect(rep.Findings).To(HaveLen(1), text(rep))
		f := rep.Findings[0]
		Expect(f.Credentialed).To(BeTrue())
		Expect(f.EngineDefault).To(HaveLen(len(worst.Engines())))
		for _, d := range f.EngineDefault {
			// WebKitGTK's default stores no third-party cookie but sends the
			// ones a first-party visit stored (specs/engines_test.go).
			sent := want(d.Engine, map[verdict.Engine]bool{verdict.Chromium: false, verdict.Firefox: false, verdict.WebKit: true})
			Expect(d.Severity).To(Equal(map[bool]probe.Severity{false: probe.Medium, true: probe.High}[sent]), "%s's default: %s", d.Engine, d.Note)
		}
		Expect(f.Also).To(ContainElements(
			probe.Also{Origin: "https://evil.example.com", Class: probe.AnySubdomain},
			probe.Also{Origin: "https://appxexample.com", Class: probe.UnescapedDot},
			probe.Also{Origin: "http://app.example.com", Class: probe.HTTPOriginTrusted}), "the suffix check explains them")
	}, NodeTimeout(2*time.Minute))

	It("says so when a scanner's critical reflection is one no browser lets an attacker read", func(ctx SpecContext) {
		// gin answers * with credentials: the credentialed read is refused (WildcardOriginNotAllowed).
		rep := run(ctx, "/gin-all/items", true, "GET")
		Expect(rep.Notes).To(ContainElement(MatchRegexp(`the answer names "\*" in Access-Control-Allow-Origin, but \w+ did not let the page read it \(WildcardOriginNotAllowed\)`)), text(rep))
	}, NodeTimeout(2*time.Minute))

	It("follows no redirect: one within the target's origin becomes a path of its own, one off it is only named", func(ctx SpecContext) {
		rep := run(ctx, "/redirect/items", false)
		Expect(rep.Paths).To(Equal([]string{"/redirect/items", "/rs-suffix/items"}), text(rep))
		Expect(rep.Notes).To(ContainElement(MatchRegexp(`^GET /redirect/items answers 302, redirecting to http://127\.0\.0\.1:\d+/rs-suffix/items: the target's own origin, so /rs-suffix/items is probed too$`)), text(rep))
		Expect(found(rep)).To(Equal(map[probe.Class]probe.Severity{probe.SuffixMatch: probe.Medium}), text(rep))
		Expect(rep.Findings[0].URL).To(HaveSuffix("/rs-suffix/items"))

		rep = run(ctx, "/redirect-off/items", false)
		Expect(rep.Paths).To(Equal([]string{"/redirect-off/items"}))
		Expect(rep.Notes).To(ContainElement("GET /redirect-off/items answers 302, redirecting to https://elsewhere.example.org/items: off the target's origin, so not followed (the browsers were told to follow no redirect)"), text(rep))
		Expect(rep.Findings).To(BeEmpty(), text(rep))
	}, NodeTimeout(2*time.Minute))

	It("writes expectations that pass against the same server, and fail after one policy change", func(ctx SpecContext) {
		safeSwitch.Store(false)
		DeferCleanup(safeSwitch.Store, false)
		rep := run(ctx, "/switch/items", false, "GET", "PUT")
		y, err := rep.WriteExpectations()
		Expect(err).NotTo(HaveOccurred())
		f, err := expect.Parse("probe.yaml", y)
		Expect(err).NotTo(HaveOccurred(), string(y))
		Expect(f.Cases).NotTo(BeEmpty())
		Expect(string(y)).To(ContainSubstring("preflight-cached:"), "the trusted origin's PUT is sent again")
		runAll := func() (failed []string) {
			for _, c := range f.Cases {
				for _, e := range def.Engines() {
					// def has the engines' default cookies, as corslab check's browsers do.
					out, err := expect.Run(ctx, def.In(e), c)
					Expect(err).NotTo(HaveOccurred())
					if !out.Passed() {
						failed = append(failed, out.Report())
					}
				}
			}
			return failed
		}
		Expect(runAll()).To(BeEmpty(), string(y))
		safeSwitch.Store(true)
		failed := runAll()
		Expect(failed).NotTo(BeEmpty())
		Expect(strings.Join(failed, "\n")).To(MatchRegexp(`✗ suffix-match: GET /switch/items from https://evilexample.com .*\n\s+- Expected the request to be allowed`))
	}, NodeTimeout(3*time.Minute))
})

var _ = Describe("corslab probe in WebKit", Label("probe", "webkit"), func() {
	It("proves the suffix check's hole with the victim's cookie, and says WebKitGTK's default still sends it", func(ctx SpecContext) {
		if !slices.Contains(chosen, verdict.WebKit) {
			Skip("WebKit is not chosen ($CORSLAB_ENGINES)")
		}
		var envs []*harness.Env
		cfg := probe.Config{Handler: probeAPI(), AppMarked: true, Engines: []verdict.Engine{verdict.WebKit}}
		for _, thirdParty := range []bool{true, false} {
			opts, err := probe.EnvOptions(ctx, cfg, thirdParty)
			Expect(err).NotTo(HaveOccurred())
			e, err := harness.Start(ctx, opts)
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(e.Close)
			envs = append(envs, e)
		}
		p, err := probe.Start(ctx, probe.Config{Trusted: app, Env: envs[0], DefaultEnv: envs[1], Paths: []string{"/rs-suffix/items"},
			Cookies: []string{victim}, Classes: []probe.Class{probe.SuffixMatch}})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(p.Close)
		rep, err := p.Run(ctx, 2)
		Expect(err).NotTo(HaveOccurred())
		Expect(rep.Errors).To(BeEmpty())
		Expect(rep.Findings).To(HaveLen(1))
		f := rep.Findings[0]
		Expect(f.Class).To(Equal(probe.SuffixMatch))
		Expect(f.Severity).To(Equal(probe.High))
		Expect(f.Engines).To(ConsistOf(verdict.WebKit))
		Expect(f.EngineDefault).To(ConsistOf(HaveField("Severity", probe.High)), "WebKitGTK's default sends the first-party cookie")
	}, NodeTimeout(3*time.Minute))
})

package specs_test

import (
	"context"
	"fmt"
	"slices"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/matchers"
	"github.com/corslab/corslab/harness/tour"
	"github.com/corslab/corslab/harness/verdict"
	"github.com/corslab/corslab/servers"
)

// Section K: the same scenarios in every chosen engine ($CORSLAB_ENGINES;
// make test chooses all three). The article's walk-through runs in each, and
// every difference found between the engines is a spec here whose name says
// which engine departs and how. Each engine's expectation is written per
// engine, from the engine's documented behaviour (docs/engines/); an engine
// without one fails the spec, so a new engine cannot pass by omission.
var _ = Describe("every chosen engine, on the default origins (127.0.0.1, two ports)", Label("engines"), Ordered, ContinueOnFailure, SpecPriority(longFirst), func() {
	Describe("the article's walk-through", func() {
		var entries []TableEntry
		for _, step := range tour.Article("") {
			entries = append(entries, Entry(step.Title(), step.ID, acrossEngines))
		}
		DescribeTable("as each engine runs it",
			func(ctx SpecContext, id string) {
				e := enginesEnv(ctx, "")
				step, ok := tour.Step(e.Origins.App.URL, id)
				Expect(ok).To(BeTrue(), "tour step %s", id)
				each(func(engine verdict.Engine) {
					results, err := e.In(engine).Play(ctx, step)
					Expect(err).NotTo(HaveOccurred())
					Expect(matchers.Check(step, results)).To(Succeed(), "in %s", engine.Title())
					if d := step.Deviations[engine]; d != "" {
						AddReportEntry(engine.Title()+" differs", d)
					}
				})
			},
			entries,
		)
	})

	It("Firefox does not reuse the first three preflights a new tab sends to an IP-literal host (Chromium and WebKit reuse every one)", func(ctx SpecContext) {
		e := enginesEnv(ctx, "")
		each(func(engine verdict.Engine) {
			// Three scenarios of two sends: preflights 1-4, then 5 and its repeat.
			got := repeats(ctx, e, engine, 3, "600")
			if want(engine, map[verdict.Engine]bool{verdict.Chromium: false, verdict.Firefox: true, verdict.WebKit: false}) {
				// Now and then Firefox reuses one of those first preflights
				// after all (model.Profile.UncachedFirstPreflights): one of the
				// two repeats going out again shows the quirk.
				Expect(got[:2]).To(ContainElement(true), "%s: was each repeat preflighted again?", engine.Title())
				Expect(got[2]).To(BeFalse(), "%s: the fifth preflight's repeat", engine.Title())
			} else {
				Expect(got).To(Equal([]bool{false, false, false}), "%s: was each repeat preflighted again?", engine.Title())
			}
		})
	}, acrossEngines)

	It("Access-Control-Allow-Headers: * lets Authorization through in every engine, which the Fetch standard forbids", func(ctx SpecContext) {
		e := enginesEnv(ctx, "")
		each(func(engine verdict.Engine) {
			r, err := e.In(engine).Do(ctx, harness.Request{Headers: []servers.Header{{Name: "Authorization", Value: "Bearer t"}},
				Policy: servers.Policy{AllowOrigin: echo, AllowHeaders: []string{"*"}}})
			Expect(err).NotTo(HaveOccurred())
			Expect(r).To(matchers.BePreflighted())
			if want(engine, map[verdict.Engine]bool{verdict.Chromium: true, verdict.Firefox: true, verdict.WebKit: true}) {
				Expect(r).To(matchers.BeAllowed())
			} else {
				Expect(r).To(matchers.BeBlockedWith(verdict.HeaderDisallowedByPreflightResponse))
			}
		})
	}, acrossEngines)

	DescribeTable("one engine reason for several Allow-Origin problems (Firefox: another origin, a list, not an origin; WebKit: missing, another origin, not an origin): corslab narrows it from the header, to the reason Chromium names",
		func(ctx SpecContext, allowOrigin []string, reason verdict.Reason, coarseIn map[verdict.Engine]bool) {
			e := enginesEnv(ctx, "")
			each(func(engine verdict.Engine) {
				r, err := e.In(engine).Do(ctx, harness.Request{Policy: servers.Policy{AllowOrigin: allowOrigin}})
				Expect(err).NotTo(HaveOccurred())
				Expect(r).To(matchers.BeBlockedWith(reason))
				if want(engine, coarseIn) {
					Expect(r.Browser.EngineReason).NotTo(Equal(string(reason)), "%s", r)
					Expect(r.Browser.Refined).NotTo(BeEmpty(), "corslab says how it narrowed the reason")
				} else {
					Expect(r.Browser.Refined).To(BeEmpty(), "%s named it itself", engine.Title())
				}
			})
		},
		Entry("missing", nil, verdict.MissingAllowOriginHeader,
			map[verdict.Engine]bool{verdict.Chromium: false, verdict.Firefox: false, verdict.WebKit: true}, acrossEngines),
		Entry("another origin", []string{"http://other.example"}, verdict.AllowOriginMismatch,
			map[verdict.Engine]bool{verdict.Chromium: false, verdict.Firefox: true, verdict.WebKit: true}, acrossEngines),
		Entry("a list of two", []string{servers.Echo + ", http://other.example"}, verdict.MultipleAllowOriginValues,
			map[verdict.Engine]bool{verdict.Chromium: false, verdict.Firefox: true, verdict.WebKit: false}, acrossEngines),
		Entry("not an origin", []string{"example.com"}, verdict.InvalidAllowOriginValue,
			map[verdict.Engine]bool{verdict.Chromium: false, verdict.Firefox: true, verdict.WebKit: true}, acrossEngines),
	)

	It("each engine reports a response CORS blocked its own way: Chromium fails it with its reason and the status, Firefox completes it and names the reason only in the console, WebKit fails it with no status", func(ctx SpecContext) {
		e := enginesEnv(ctx, "")
		each(func(engine verdict.Engine) {
			r, err := e.In(engine).Do(ctx, harness.Request{})
			Expect(err).NotTo(HaveOccurred())
			Expect(r).To(matchers.BeBlockedWith(verdict.MissingAllowOriginHeader))
			Expect(r.Server.Actuals()).To(ConsistOf(HaveField("Status", 200)), "the server answered 200 (its journal)")
			a := r.Browser.Actual
			Expect(a).NotTo(BeNil())
			switch engine {
			case verdict.Chromium:
				Expect(a.Failed).To(BeTrue(), "%s", r)
				Expect(a.Status).To(Equal(200))
				Expect(a.EngineReason).To(Equal(string(verdict.MissingAllowOriginHeader)))
			case verdict.Firefox:
				Expect(a.Failed).To(BeFalse(), "%s", r)
				Expect(a.Status).To(Equal(200))
				Expect(r.Browser.Messages).To(ContainElement(ContainSubstring("Access-Control-Allow-Origin")))
			case verdict.WebKit:
				Expect(a.Failed).To(BeTrue(), "%s", r)
				Expect(a.Status).To(BeZero(), "WebKit's inspector gives a blocked response no status")
				Expect(r.Browser.Messages).To(ContainElement(ContainSubstring("Access-Control-Allow-Origin")))
			default:
				Fail("no measured expectation for " + engine.Title())
			}
		})
	}, acrossEngines)

	It("WebKit reports no preflight over its inspector: corslab takes it from the server's journal and says so", func(ctx SpecContext) {
		e := enginesEnv(ctx, "")
		each(func(engine verdict.Engine) {
			r, err := e.In(engine).Do(ctx, harness.Request{Method: "PUT", Policy: servers.Policy{AllowOrigin: echo, AllowMethods: []string{"PUT"}}})
			Expect(err).NotTo(HaveOccurred())
			Expect(r).To(And(matchers.BeAllowed(), matchers.BePreflighted()))
			Expect(r.Browser.PreflightFromJournal).To(Equal(want(engine, map[verdict.Engine]bool{verdict.Chromium: false, verdict.Firefox: false, verdict.WebKit: true})))
			Expect(r.String()).To(Or(Not(ContainSubstring("this one is the server's record")), Satisfy(func(string) bool { return r.Browser.PreflightFromJournal })))
		})
	}, acrossEngines)

	It("WebKit checks a preflight's status before its Allow-Origin: a 404 preflight without CORS headers is PreflightInvalidStatus there, PreflightMissingAllowOriginHeader in Chromium and Firefox", func(ctx SpecContext) {
		e := enginesEnv(ctx, "")
		each(func(engine verdict.Engine) {
			r, err := e.In(engine).Do(ctx, harness.Request{Method: "PUT", Policy: servers.Policy{AllowOrigin: echo, Preflight: &servers.Policy{PreflightStatus: 404}}})
			Expect(err).NotTo(HaveOccurred())
			if want(engine, map[verdict.Engine]bool{verdict.Chromium: false, verdict.Firefox: false, verdict.WebKit: true}) {
				Expect(r).To(matchers.BeBlockedWith(verdict.PreflightInvalidStatus))
			} else {
				Expect(r).To(matchers.BeBlockedWith(verdict.PreflightMissingAllowOriginHeader))
			}
		})
	}, acrossEngines)

	It("WebKit calls a redirected preflight a status that is not ok, as the standard does; Chromium and Firefox name the redirect (PreflightDisallowedRedirect)", func(ctx SpecContext) {
		e := enginesEnv(ctx, "")
		each(func(engine verdict.Engine) {
			r, err := e.In(engine).Do(ctx, harness.Request{Method: "PUT", Policy: servers.Policy{AllowOrigin: echo, AllowMethods: []string{"PUT"}, Redirect: &servers.Redirect{Status: 307}}})
			Expect(err).NotTo(HaveOccurred())
			if want(engine, map[verdict.Engine]bool{verdict.Chromium: true, verdict.Firefox: true, verdict.WebKit: false}) {
				Expect(r).To(matchers.BeBlockedWith(verdict.PreflightDisallowedRedirect))
			} else {
				Expect(r).To(matchers.BeBlockedWith(verdict.PreflightInvalidStatus))
			}
		})
	}, acrossEngines)

	It("WebKit refuses an https page's request to http://127.0.0.1 as mixed content (Chromium and Firefox treat loopback as trustworthy)", func(ctx SpecContext) {
		e := enginesEnv(ctx, "")
		each(func(engine verdict.Engine) {
			s, err := e.In(engine).NewSessionAs(ctx, "https://app.example.com")
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(s.Close)
			r, err := s.Do(ctx, harness.Request{Policy: servers.Policy{AllowOrigin: echo}})
			Expect(err).NotTo(HaveOccurred())
			if want(engine, map[verdict.Engine]bool{verdict.Chromium: false, verdict.Firefox: false, verdict.WebKit: true}) {
				Expect(r).To(matchers.HaveOutcome(verdict.Failed))
				Expect(r.Server.Entries).To(BeEmpty(), "nothing went out")
				Expect(r.Explain()).To(ContainSubstring("mixed content"))
			} else {
				Expect(r).To(matchers.BeAllowed())
			}
		})
	}, acrossEngines)

	DescribeTable("createCORSRequest's XDomainRequest detection picks the same transport in every engine",
		func(ctx SpecContext, environment string, transport string, outcome verdict.Outcome) {
			e := enginesEnv(ctx, "")
			rs, err := e.DoAll(ctx, harness.Request{Environment: environment, Policy: servers.Policy{AllowOrigin: echo}})
			Expect(err).NotTo(HaveOccurred())
			Expect(rs).To(HaveLen(len(chosen)))
			for _, r := range rs {
				Expect(r.Page.Transport).To(Equal(transport), "%s", r)
				Expect(r).To(matchers.HaveOutcome(outcome))
			}
			Expect(rs.Disagreements()).To(BeEmpty())
		},
		Entry("a modern browser: XMLHttpRequest with withCredentials", harness.Modern, "XMLHttpRequest", verdict.Allowed, acrossEngines),
		Entry("IE 8-9: no withCredentials, XDomainRequest", "legacy", "XDomainRequest", verdict.Allowed, acrossEngines),
		Entry("neither: createCORSRequest returns null", "none", "", verdict.Unsupported, acrossEngines),
	)
})

var _ = Describe("every chosen engine, by name over HTTPS (https://app.test, https://api.test)", Label("engines"), Ordered, ContinueOnFailure, SpecPriority(longFirst), func() {
	It("with a host name every engine reuses a tab's first preflight", func(ctx SpecContext) {
		e := enginesEnv(ctx, crossSiteTLS)
		each(func(engine verdict.Engine) {
			Expect(repeats(ctx, e, engine, 1, "600")).To(Equal([]bool{false}), "%s: the repeat was preflighted again", engine.Title())
		})
	}, acrossEngines)

	It("Firefox stores nothing for Access-Control-Max-Age: abc (Chromium and WebKit treat it as absent: 5 s)", func(ctx SpecContext) {
		e := enginesEnv(ctx, crossSiteTLS)
		each(func(engine verdict.Engine) {
			again := want(engine, map[verdict.Engine]bool{verdict.Chromium: false, verdict.Firefox: true, verdict.WebKit: false})
			Expect(repeats(ctx, e, engine, 1, "abc")).To(Equal([]bool{again}), "%s: was the repeat preflighted again?", engine.Title())
		})
	}, acrossEngines)

	It("Firefox never reuses a preflight allowed only by Access-Control-Allow-Methods: * (Chromium and WebKit do)", func(ctx SpecContext) {
		e := enginesEnv(ctx, crossSiteTLS)
		each(func(engine verdict.Engine) {
			s, err := e.In(engine).NewSession(ctx)
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(s.Close)
			req := harness.Request{Method: "PUT", Policy: servers.Policy{AllowOrigin: echo, AllowMethods: []string{"*"}, MaxAge: "600"}}
			rs, err := s.Play(ctx, harness.Scenario{Sends: []harness.Send{{Request: req}, {Request: req, Reuse: 1}}})
			Expect(err).NotTo(HaveOccurred())
			Expect(rs[0]).To(matchers.BeAllowed())
			again := want(engine, map[verdict.Engine]bool{verdict.Chromium: false, verdict.Firefox: true, verdict.WebKit: false})
			Expect(rs[1].Preflighted()).To(Equal(again), "%s", rs[1])
		})
	}, acrossEngines)

	It("WebKit stores a preflight that refused the method: a PUT the same preflight allowed then goes without one (Chromium and Firefox ask again)", func(ctx SpecContext) {
		e := enginesEnv(ctx, crossSiteTLS)
		each(func(engine verdict.Engine) {
			s, err := e.In(engine).NewSession(ctx)
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(s.Close)
			pol := servers.Policy{AllowOrigin: echo, AllowMethods: []string{"PUT"}, MaxAge: "600"}
			rs, err := s.Play(ctx, harness.Scenario{Sends: []harness.Send{
				{Request: harness.Request{Method: "DELETE", Policy: pol}}, {Request: harness.Request{Method: "PUT", Body: "x", Policy: pol}, Reuse: 1}}})
			Expect(err).NotTo(HaveOccurred())
			Expect(rs[0]).To(matchers.BeBlockedWith(verdict.MethodDisallowedByPreflightResponse))
			Expect(rs[1]).To(matchers.BeAllowed())
			again := want(engine, map[verdict.Engine]bool{verdict.Chromium: true, verdict.Firefox: true, verdict.WebKit: false})
			Expect(rs[1].Preflighted()).To(Equal(again), "%s", rs[1])
		})
	}, acrossEngines)

	DescribeTable("third-party cookies under each engine's default: a first-party cookie of https://api.test goes with a credentialed request from https://app.test only where third-party cookies are allowed",
		func(ctx SpecContext, world string, sentWhere map[verdict.Engine]bool) {
			e := enginesEnv(ctx, world)
			each(func(engine verdict.Engine) {
				sc := harness.Scenario{Cookies: []string{"c=1; SameSite=None; Secure; Path=/"},
					Sends: []harness.Send{{Request: harness.Request{Credentials: true, Policy: servers.Policy{AllowOrigin: echo, AllowCredentials: "true"}}}}}
				rs, err := e.In(engine).Play(ctx, sc)
				Expect(err).NotTo(HaveOccurred())
				Expect(rs[0]).To(matchers.BeAllowed(), "CORS allows it: the cookie is a separate question")
				if want(engine, sentWhere) {
					Expect(rs[0]).To(matchers.SendCookies("c"))
				} else {
					Expect(rs[0]).To(matchers.SendCookies())
				}
			})
		},
		Entry("by default: Chromium blocks them, Firefox keeps a site's cookies apart per top-level site (Total Cookie Protection), WebKitGTK stores none from a third party but sends the ones a first-party visit stored",
			crossSiteTLS, map[verdict.Engine]bool{verdict.Chromium: false, verdict.Firefox: false, verdict.WebKit: true}, acrossEngines),
		Entry("with Options.ThirdPartyCookies: every engine sends it",
			crossSiteTLS3P, map[verdict.Engine]bool{verdict.Chromium: true, verdict.Firefox: true, verdict.WebKit: true}, acrossEngines),
	)
})

// each runs f once per chosen engine, with a step naming the engine.
func each(f func(e verdict.Engine)) {
	for _, e := range chosen {
		By(e.Title())
		f(e)
	}
}

// want returns the expectation of engine e from a table of them; an engine
// the table lacks fails the spec.
func want(e verdict.Engine, table map[verdict.Engine]bool) bool {
	GinkgoHelper()
	v, ok := table[e]
	if !ok {
		Fail(fmt.Sprintf("no measured expectation for %s: measure it and add it to the spec and to docs/engines/", e.Title()))
	}
	return v
}

// repeats sends n scenarios of two identical preflighted requests in a
// new session of engine and returns, for each, whether the repeat was
// preflighted again.
func repeats(ctx SpecContext, e *harness.Env, engine verdict.Engine, n int, maxAge string) []bool {
	GinkgoHelper()
	s, err := e.In(engine).NewSession(ctx)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(s.Close)
	var again []bool
	for range n {
		req := harness.Request{Method: "PUT", Policy: servers.Policy{AllowOrigin: echo, AllowMethods: []string{"PUT"}, MaxAge: maxAge, MaxAgeRaw: maxAge == "abc"}}
		rs, err := s.Play(ctx, harness.Scenario{Sends: []harness.Send{{Request: req}, {Request: req, Reuse: 1}}})
		Expect(err).NotTo(HaveOccurred())
		for _, r := range rs {
			Expect(r).To(matchers.BeAllowed())
			Expect(r.Disagreements()).To(BeEmpty(), "%s", r)
		}
		again = append(again, rs[1].Preflighted())
	}
	return again
}

// enginesEnv returns this process's Env of every chosen engine for the
// named world ("" is the default 127.0.0.1 pair), starting it on first use.
func enginesEnv(ctx context.Context, world string) *harness.Env {
	GinkgoHelper()
	extraMu.Lock()
	defer extraMu.Unlock()
	key := "engines " + world
	if e := extraEnvs[key]; e != nil {
		return e
	}
	var opts harness.Options
	switch world {
	case "":
	default:
		opts = extraOptions(world)
	}
	opts.Engines = slices.Clone(chosen)
	opts.WarmSessions = -1
	opts.ShareBrowser = true
	e, err := harness.Start(ctx, opts)
	Expect(err).NotTo(HaveOccurred(), "start the engines' Env (%q)", world)
	extraEnvs[key] = e
	return e
}

package specs_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/chromium"
	"github.com/corslab/corslab/harness/lab"
	"github.com/corslab/corslab/harness/matchers"
	"github.com/corslab/corslab/harness/tour"
	"github.com/corslab/corslab/servers"
)

// The teaching lab (issue 6), driven through its UI with chromedp. The lab
// runs in its own Chrome and origins; every scenario is also run through
// this process's env (another Chrome), and what the lab draws must match the
// harness's own Result for the same scenario.
var _ = Describe("the teaching lab", Ordered, SpecPriority(longFirst), func() {
	var l *lab.Lab
	var labTab context.Context // one tab for the container: each spec navigates it afresh
	BeforeAll(func(ctx SpecContext) {
		var err error
		l, err = lab.Start(ctx, harness.Options{ShareBrowser: true})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(l.Close)
		// The tab outlives this node; ctx bounds only its opening.
		base, cancel := context.WithCancel(context.Background())
		DeferCleanup(cancel)
		stop := context.AfterFunc(ctx, cancel)
		tab, closeTab, err := chromium.Browse(base, l.Env(), l.URL())
		stop()
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(closeTab)
		labTab = tab
	}, NodeTimeout(60*time.Second))
	// openLab loads url in the container's lab tab, for this spec: ctx bounds every action on it.
	openLab := func(ctx SpecContext, url string) context.Context {
		GinkgoHelper()
		tab, cancel := context.WithCancel(labTab)
		stop := context.AfterFunc(ctx, cancel)
		DeferCleanup(func() { stop(); cancel() })
		Expect(chromedp.Do(tab, chromedp.Navigate(url))).To(Succeed())
		return tab
	}

	var entries []TableEntry
	for _, step := range tour.Article("") {
		entries = append(entries, Entry(step.Title(), step.ID, within))
	}
	DescribeTable("runs each preset through the UI and draws what the harness sees",
		func(ctx SpecContext, id string) {
			tab := openLab(ctx, l.URL())
			Expect(chromedp.Do(tab, chromedp.Click("#preset-"+id))).To(Succeed())
			shown := waitLab(ctx, tab, 1)
			Expect(shown.AsSaid).To(Equal("true"), "the lab says %s does not behave as the article says", id)

			step := stepByID(id)
			results, err := env.Play(ctx, step)
			Expect(err).NotTo(HaveOccurred())
			Expect(matchers.Check(step, results)).To(Succeed())
			Expect(shown.Runs).To(HaveLen(len(results)))
			for i, r := range results {
				expectDrawn(shown.Runs[i], r, fmt.Sprintf("%s request %d", id, i+1))
			}
			// Copy as Mermaid: the last run's diagram, one Mermaid line per arrow, fenced for an issue.
			last := results[len(results)-1]
			Expect(shown.Mermaid).To(HavePrefix("```mermaid\nsequenceDiagram\n"))
			Expect(strings.Count(shown.Mermaid, "\n    ")).To(Equal(3+len(last.Diagram())+1), "participants, arrows, verdict:\n%s", shown.Mermaid)
			// The lab runs on origins of its own: the verdict's outcome and reason, not its origin-bearing parameter.
			v := last.Verdict()
			Expect(shown.Mermaid).To(MatchRegexp(`\n    Note over P,S: [✓✗] %s( %s)?`, regexp.QuoteMeta(string(v.Outcome)), regexp.QuoteMeta(string(v.Reason))))
		},
		entries,
	)

	It("runs a request built in the form, and Repeat shows the preflight cache", func(ctx SpecContext) {
		tab := openLab(ctx, l.URL())
		Expect(chromedp.Do(tab,
			chromedp.WaitVisible("#p-allow-origin"),
			chromedp.SetValue("#r-api", "fetch"),
			chromedp.SetValue("#r-method", "PUT"),
			chromedp.SetValue("#r-headers", "Content-Type: application/json\nX-Trace: 1"),
			chromedp.SetValue("#r-body", `{"a":1}`),
			chromedp.SetValue("#p-allow-origin", servers.Echo),
			chromedp.SetValue("#p-allow-methods", "PUT"),
			chromedp.SetValue("#p-allow-headers", "Content-Type, X-Trace"),
			chromedp.SetValue("#p-max-age", "600"),
			chromedp.Click("#run"),
		)).To(Succeed())
		first := waitLab(ctx, tab, 1)

		req := harness.Request{API: harness.Fetch, Method: "PUT", Body: `{"a":1}`,
			Headers: []servers.Header{{Name: "Content-Type", Value: "application/json"}, {Name: "X-Trace", Value: "1"}},
			Policy:  servers.Policy{AllowOrigin: []string{servers.Echo}, AllowMethods: []string{"PUT"}, AllowHeaders: []string{"Content-Type, X-Trace"}, MaxAge: "600"}}
		r1, err := env.Do(ctx, req)
		Expect(err).NotTo(HaveOccurred())
		Expect(r1).To(matchers.BePreflighted())
		Expect(r1).To(matchers.BeAllowed())
		Expect(first.Runs).To(HaveLen(1))
		expectDrawn(first.Runs[0], r1, "form run")
		Expect(first.Runs[0].Cache).To(MatchRegexp(`expires in (10 min 0|9 min \d+) s`), "a countdown from Max-Age 600")

		Expect(chromedp.Do(tab, chromedp.Click("#repeat"))).To(Succeed())
		again := waitLab(ctx, tab, 2)
		req.Token = r1.Token
		r2, err := env.Do(ctx, req)
		Expect(err).NotTo(HaveOccurred())
		Expect(r2).To(matchers.UseCachedPreflight())
		Expect(again.Runs).To(HaveLen(1))
		Expect(again.Runs[0].Token).To(Equal(first.Runs[0].Token), "Repeat must reuse the URL")
		expectDrawn(again.Runs[0], r2, "repeat")
		Expect(again.Runs[0].Cache).To(ContainSubstring("Answered from the preflight cache"))
	}, within)

	It("restores and runs a shared scenario from its URL", func(ctx SpecContext) {
		req := harness.Request{Credentials: true, Policy: servers.Policy{AllowOrigin: []string{"*"}}}
		tab := openLab(ctx, l.ShareURL(req))
		shown := waitLab(ctx, tab, 1)
		creds, err := chromedp.Run(tab, chromedp.Evaluate[bool](`document.getElementById("r-credentials").checked`))
		Expect(err).NotTo(HaveOccurred())
		Expect(creds).To(BeTrue(), "the form shows the shared scenario")

		r, err := env.Do(ctx, req)
		Expect(err).NotTo(HaveOccurred())
		Expect(r).To(matchers.BeBlockedWith("WildcardOriginNotAllowed"))
		Expect(shown.Runs).To(HaveLen(1))
		expectDrawn(shown.Runs[0], r, "shared")
		Expect(shown.Runs[0].Words).To(ContainSubstring("credentials"))
	}, within)

	It("runs the form's request in the visitor's own browser too, and compares", func(ctx SpecContext) {
		// Here the visitor's browser is a tab of the lab's Chrome: both runs must agree.
		req := harness.Request{Method: "DELETE", Policy: servers.Policy{AllowOrigin: []string{servers.Echo}}}
		tab := openLab(ctx, l.ShareURL(req))
		waitLab(ctx, tab, 1)
		Expect(chromedp.Do(tab, chromedp.Click("#mine"))).To(Succeed())
		// Run here too draws corslab's answer (2), then this browser's (3).
		shown := waitLab(ctx, tab, 3)
		here, err := chromedp.Run(tab, chromedp.Evaluate[map[string]string](`({same: document.getElementById("here").dataset.same,
			text: document.getElementById("here").textContent})`))
		Expect(err).NotTo(HaveOccurred())

		r, err := env.Do(ctx, req)
		Expect(err).NotTo(HaveOccurred())
		Expect(r).To(matchers.BeBlockedWith("MethodDisallowedByPreflightResponse", "DELETE"))
		Expect(shown.Runs).To(HaveLen(1))
		expectDrawn(shown.Runs[0], r, "corslab's run")
		Expect(here["same"]).To(Equal("true"), here["text"])
		Expect(here["text"]).To(ContainSubstring("onerror, status 0"))
		Expect(here["text"]).To(ContainSubstring("OPTIONS → 204  (preflight)"), "the journal of the visitor's run")
	}, within)

	It("answers only its own origin: a page on another origin cannot use the lab API", func(ctx SpecContext) {
		// This process's page origin is another origin than the lab's.
		r, err := env.Do(ctx, harness.Request{API: harness.Fetch, URL: l.Env().Origins.App.URL + "/lab/api/presets"})
		Expect(err).NotTo(HaveOccurred())
		Expect(r).To(matchers.BeBlockedWith("MissingAllowOriginHeader"))
		// The lab itself refuses it too (not only the browser hides the answer):
		// the same request with that page's Origin, straight from Go.
		hr, err := http.NewRequestWithContext(ctx, http.MethodGet, l.Env().Origins.App.URL+"/lab/api/presets", nil)
		Expect(err).NotTo(HaveOccurred())
		hr.Header.Set("Origin", env.Origins.App.URL)
		resp, err := http.DefaultClient.Do(hr)
		Expect(err).NotTo(HaveOccurred())
		resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(http.StatusForbidden))
	}, within)
})

// labView is what the lab page shows, read from its DOM.
type labView struct {
	State   string    `json:"state"`
	AsSaid  string    `json:"asSaid"`
	Runs    []labRunV `json:"runs"`
	Mermaid string    `json:"mermaid"` // the "copy as Mermaid" text of the last run
}

type labRunV struct {
	Token   string      `json:"token"`
	Reason  string      `json:"reason"`
	Allowed string      `json:"allowed"`
	Verdict string      `json:"verdict"`
	Words   string      `json:"words"`
	Cache   string      `json:"cache"`
	Arrows  []labArrowV `json:"arrows"`
}

type labArrowV struct {
	Kind    string   `json:"kind"`
	Label   string   `json:"label"`
	Headers []string `json:"headers"`
}

const readLab = `(() => {
  const res = document.getElementById("results"), check = document.querySelector(".step-check");
  return {
    state: res.dataset.state,
    asSaid: check ? check.dataset.asSaid : "",
    mermaid: document.getElementById("mermaid").textContent,
    runs: [...res.querySelectorAll(".run:not(.here)")].map(run => ({
      token: run.dataset.token, reason: run.dataset.reason, allowed: run.dataset.allowed,
      verdict: run.querySelector(".verdict-head").textContent,
      words: run.querySelector(".reason").textContent,
      cache: (run.querySelector(".cache") || {}).textContent || "",
      arrows: [...run.querySelectorAll(".arrow")].map(a => ({
        kind: a.dataset.kind,
        label: [...a.querySelector(".label").childNodes].filter(n => !(n.classList && n.classList.contains("sr"))).map(n => n.textContent).join(""),
        headers: [...a.querySelectorAll(".headers li")].map(h => h.textContent)
      }))
    }))
  };
})()`

// waitLab waits until the lab has drawn its shown-th answer (or an error)
// and reads the page. A click's handler may run after the click action
// returns, so the count, not the state alone, tells a new answer from the last.
func waitLab(ctx context.Context, tab context.Context, shown int) labView {
	GinkgoHelper()
	_, err := chromedp.Run(tab, chromedp.Poll[bool](fmt.Sprintf(`(() => {
		const r = document.getElementById("results");
		return r.dataset.state === "error" || r.dataset.state === "done" && Number(r.dataset.shown) >= %d;
	})()`, shown)))
	Expect(err).NotTo(HaveOccurred())
	v, err := chromedp.Run(tab, chromedp.Evaluate[labView](readLab))
	Expect(err).NotTo(HaveOccurred())
	Expect(v.State).To(Equal("done"), "the lab showed an error")
	return v
}

// expectDrawn checks the lab's drawing of a run against the harness's own
// Result for the same scenario: which exchanges went out (from the server's
// journal), what the page got, and Chrome's verdict.
func expectDrawn(d labRunV, r harness.Result, what string) {
	GinkgoHelper()
	var kinds []string
	for _, a := range d.Arrows {
		kinds = append(kinds, a.Kind)
	}
	Expect(kinds).To(Equal(expectedKinds(r)), "%s: the diagram's arrows\n%s", what, r)
	Expect(d.Reason).To(Equal(string(r.Browser.Reason)), "%s: the verdict's reason\n%s", what, r)
	Expect(d.Allowed).To(Equal(strconv.FormatBool(r.Allowed())), "%s: allowed\n%s", what, r)
	for _, a := range d.Arrows {
		switch a.Kind {
		case harness.KindPreflight:
			Expect(a.Headers).To(ContainElement("Access-Control-Request-Method: "+r.Server.Preflights()[0].Header.Get("Access-Control-Request-Method")), what)
		case harness.KindResponse:
			Expect(a.Label).To(HavePrefix(strconv.Itoa(r.Server.Actuals()[0].Status)), what)
		case harness.KindCallback:
			if r.Page.Transport != "fetch" && r.Page.Event != "unsupported" {
				Expect(a.Label).To(HavePrefix("on"+r.Page.Event), what)
			}
		}
	}
}

// expectedKinds is the diagram the harness's Result calls for, derived from
// the server's journal and the page view (the lab draws Chrome's view). It
// does not use Chrome's status for the answer: for a blocked response that
// event can trail the Result (see the report of issue 6).
func expectedKinds(r harness.Result) []string {
	kinds := []string{harness.KindCall}
	noNetwork := r.Page.Event == "unsupported" || r.Page.Event == "exception"
	switch pre := r.Server.Preflights(); {
	case len(pre) > 0:
		kinds = append(kinds, harness.KindPreflight, harness.KindPreflightResponse)
	case r.PreflightFromCache():
		kinds = append(kinds, harness.KindCache)
	case !r.NeedsPreflight() && !noNetwork:
		kinds = append(kinds, harness.KindSimple)
	}
	switch {
	case noNetwork:
	case len(r.Server.Actuals()) == 0:
		kinds = append(kinds, harness.KindNeverSent)
	case r.Executed():
		kinds = append(kinds, harness.KindRequest, harness.KindResponse)
	default:
		kinds = append(kinds, harness.KindRequest, harness.KindNoAnswer)
	}
	return append(kinds, harness.KindCallback)
}

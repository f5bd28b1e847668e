package specs_test

import (
	"bytes"
	"context"
	encjson "encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/reporters"
	. "github.com/onsi/gomega"

	"github.com/corslab/corslab/harness/chromium"
	"github.com/corslab/corslab/harness/expect"
	"github.com/corslab/corslab/harness/report"
	"github.com/corslab/corslab/harness/verdict"
)

// The reports `corslab check --html/--json/--junit` writes, from a real run:
// the HTML page opened in Chromium (what it draws must be the Results'
// diagrams and verdicts), the JSON and the JUnit parsed back.
var _ = Describe("check's reports", Label("reports"), Ordered, func() {
	const file = `
cases:
  - name: a simple GET is allowed by Access-Control-Allow-Origin *
    request: {policy: {allow-origin: "*"}}
    expect: {result: allowed, preflight: no}
  - name: a header the preflight does not allow is blocked
    request: {method: PUT, body: x, headers: {X-Trace: "1"}, policy: {allow-origin: $origin, allow-methods: PUT}}
    expect: {result: blocked, reason: HeaderDisallowedByPreflightResponse, preflight: yes}
  - name: this expectation is wrong on purpose
    request: {policy: {}}
    expect: {result: allowed}
  - name: a server nobody listens on
    request: {url: "http://127.0.0.1:9/"}
    expect: {result: allowed}
`
	var run *report.Run
	BeforeAll(func(ctx SpecContext) {
		f, err := expect.Parse("report.yaml", []byte(file))
		Expect(err).NotTo(HaveOccurred())
		run = &report.Run{Tool: "corslab check", File: "report.yaml", Started: time.Now(), Cases: f.Cases,
			Engines: []report.Engine{{Name: env.Engine(), Version: env.Version()}}}
		for _, c := range f.Cases {
			o, _ := expect.Run(ctx, env, c)
			run.Outcomes = append(run.Outcomes, o)
		}
		run.Took = time.Since(run.Started)
	}, within)

	It("draws every case: the summary table, and per engine the verdict, the reason in words and the Result's diagram", func(ctx SpecContext) {
		path := filepath.Join(GinkgoT().TempDir(), "report.html")
		var buf bytes.Buffer
		Expect(run.WriteHTML(&buf)).To(Succeed())
		Expect(os.WriteFile(path, buf.Bytes(), 0o644)).To(Succeed())
		Expect(buf.String()).NotTo(MatchRegexp(`(?i)<script|<link|src=|url\(http`), "the page needs nothing from anywhere")

		base, cancel := context.WithCancel(context.Background())
		DeferCleanup(cancel)
		tab, closeTab, err := chromium.Browse(base, env, "file://"+path)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(closeTab)
		stop := context.AfterFunc(ctx, cancel)
		DeferCleanup(stop)

		type drawnRequest struct {
			Verdict string   `json:"verdict"`
			Reason  string   `json:"reason"`
			Meaning string   `json:"meaning"`
			Kinds   []string `json:"kinds"`
		}
		type drawnCell struct {
			Engine   string         `json:"engine"`
			Status   string         `json:"status"`
			Requests []drawnRequest `json:"requests"`
		}
		type drawn struct {
			Summary string      `json:"summary"`
			Rows    []string    `json:"rows"`
			Cells   []drawnCell `json:"cells"`
		}
		got, err := chromedp.Run(tab, chromedp.Evaluate[drawn](`(() => ({
			summary: document.getElementById("summary").textContent,
			rows: [...document.querySelectorAll("#overview tbody tr")].map(tr => tr.dataset.status),
			cells: [...document.querySelectorAll("section.case .engine")].map(e => ({
				engine: e.dataset.engine, status: e.dataset.status,
				requests: [...e.querySelectorAll(".request")].map(r => ({
					verdict: r.querySelector(".verdict").textContent, reason: r.dataset.reason,
					meaning: r.querySelector(".meaning").textContent,
					kinds: [...r.querySelectorAll("svg.diagram g.arrow")].map(g => g.dataset.kind)}))}))
		}))()`))
		Expect(err).NotTo(HaveOccurred())
		Expect(got.Summary).To(HavePrefix("4 cases, 2 passed, 1 failed, 1 could not be checked"))
		Expect(got.Rows).To(Equal([]string{"passed", "passed", "failed", "error"}))
		Expect(got.Cells).To(HaveLen(len(run.Outcomes)))
		for i, o := range run.Outcomes {
			cell := got.Cells[i]
			Expect(cell.Engine).To(Equal(string(o.Engine)))
			Expect(cell.Requests).To(HaveLen(len(o.Results)), "case %q", o.Case.Name)
			for k, r := range o.Results {
				d := cell.Requests[k]
				Expect(d.Verdict).To(Equal(strings.Join(strings.Fields(r.Verdict().String()), " ")))
				Expect(d.Reason).To(Equal(string(r.Verdict().Reason)))
				Expect(d.Meaning).To(Equal(r.Meaning()))
				var kinds []string
				for _, a := range r.Diagram() {
					kinds = append(kinds, a.Kind)
				}
				Expect(d.Kinds).To(Equal(kinds), "case %q: the drawn arrows are the Result's", o.Case.Name)
			}
		}
	}, within)

	It("writes JSON a machine reads back: a status per case and engine, the verdicts, the transcripts", func() {
		var buf bytes.Buffer
		Expect(run.WriteJSON(&buf)).To(Succeed())
		var doc struct {
			Tool    string          `json:"tool"`
			Summary report.Counts   `json:"summary"`
			Engines []report.Engine `json:"engines"`
			Cases   []struct {
				Name string `json:"name"`
				Runs []struct {
					Engine   verdict.Engine `json:"engine"`
					Status   report.Status  `json:"status"`
					Error    string         `json:"error"`
					Requests []struct {
						Verdict    verdict.Verdict `json:"verdict"`
						Transcript string          `json:"transcript"`
						Mermaid    string          `json:"mermaid"`
					} `json:"requests"`
				} `json:"runs"`
			} `json:"cases"`
		}
		Expect(encjson.Unmarshal(buf.Bytes(), &doc)).To(Succeed())
		Expect(doc.Tool).To(Equal("corslab check"))
		Expect(doc.Summary).To(Equal(report.Counts{Cases: 4, Passed: 2, Failed: 1, Errors: 1}))
		Expect(doc.Engines).To(ConsistOf(report.Engine{Name: env.Engine(), Version: env.Version()}))
		Expect(doc.Cases).To(HaveLen(4))
		var statuses []report.Status
		for i, c := range doc.Cases {
			Expect(c.Runs).To(HaveLen(1))
			statuses = append(statuses, c.Runs[0].Status)
			r := run.Outcomes[i].Results[0]
			Expect(c.Runs[0].Requests[0].Verdict).To(Equal(r.Verdict()))
			Expect(c.Runs[0].Requests[0].Transcript).To(Equal(r.String()))
			Expect(c.Runs[0].Requests[0].Mermaid).To(HavePrefix("sequenceDiagram\n"))
		}
		Expect(statuses).To(Equal([]report.Status{report.Passed, report.Passed, report.Failed, report.Error}))
		Expect(doc.Cases[3].Runs[0].Error).To(ContainSubstring("could not be reached"))
	})

	It("writes JUnit with ginkgo's types: <failure> for a wrong expectation, <error> for an unreachable server, versions as properties", func() {
		var buf bytes.Buffer
		Expect(run.WriteJUnit(&buf)).To(Succeed())
		var doc reporters.JUnitTestSuites
		Expect(xml.Unmarshal(buf.Bytes(), &doc)).To(Succeed())
		Expect(doc.TestSuites).To(HaveLen(1))
		s := doc.TestSuites[0]
		Expect(s.Tests).To(Equal(4))
		Expect(s.Failures).To(Equal(1))
		Expect(s.Errors).To(Equal(1))
		Expect(s.Properties.Properties).To(ContainElement(reporters.JUnitProperty{Name: string(env.Engine()) + ".version", Value: env.Version()}))
		Expect(s.TestCases[2].Failure).NotTo(BeNil())
		Expect(s.TestCases[2].Error).To(BeNil())
		Expect(s.TestCases[3].Error).NotTo(BeNil())
		Expect(s.TestCases[3].Error.Message).To(ContainSubstring("could not be reached"))
		Expect(s.TestCases[0].SystemOut).To(Equal(run.Outcomes[0].Results[0].String()))
	})
})

// Package report writes what a `corslab check` run found, for people and
// for machines: one self-contained HTML page (a summary table, and per case
// the sequence diagram, the verdict of each engine, the reason in plain
// words and the transcript), JSON in the shape docs/reports.md documents,
// and JUnit XML built from ginkgo's reporter types.
package report

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2/reporters"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/expect"
	"github.com/corslab/corslab/harness/verdict"
)

// Run is one check run: its cases and what each engine did with them.
type Run struct {
	// Tool names the command, e.g. "corslab check".
	Tool string
	// File is the expectations file the cases came from.
	File string
	// Started is when the run began; Took is how long it took.
	Started time.Time
	Took    time.Duration
	// Engines are the engines the cases ran in, with their versions, in order.
	Engines []Engine
	// Cases are the cases that ran, in the file's order.
	Cases []harness.Scenario
	// Outcomes are what happened to each case in each engine.
	Outcomes []expect.Outcome
}

// Engine is an engine of a run and the version it reported.
type Engine struct {
	Name    verdict.Engine `json:"engine"`
	Version string         `json:"version"`
}

// Status is what happened to one case in one engine.
type Status string

// The statuses of a case in an engine.
const (
	Passed Status = "passed" // it met every expectation
	Failed Status = "failed" // it ran, and an expectation did not hold
	Error  Status = "error"  // it could not be checked: it did not run, or its server was unreachable
)

// statusOf is o's Status.
func statusOf(o expect.Outcome) Status {
	switch {
	case o.Passed():
		return Passed
	case o.Errored() != "":
		return Error
	}
	return Failed
}

// outcome returns the outcome of case c in engine e, and false when there is none.
func (r *Run) outcome(c harness.Scenario, e verdict.Engine) (expect.Outcome, bool) {
	for _, o := range r.Outcomes {
		if o.Engine == e && o.Case.Line == c.Line && o.Case.Name == c.Name {
			return o, true
		}
	}
	return expect.Outcome{}, false
}

// Counts are a run's cases by status; a case counts as passed only when it
// passed in every engine, as an error when it errored in any.
type Counts struct {
	Cases  int `json:"cases"`
	Passed int `json:"passed"`
	Failed int `json:"failed"`
	Errors int `json:"errors"`
}

// Count returns the run's Counts, over all engines and per engine.
func (r *Run) Count() (all Counts, per map[verdict.Engine]Counts) {
	per = map[verdict.Engine]Counts{}
	for _, c := range r.Cases {
		all.Cases++
		worst := Passed
		for _, e := range r.Engines {
			pc := per[e.Name]
			pc.Cases++
			o, ok := r.outcome(c, e.Name)
			st := Error
			if ok {
				st = statusOf(o)
			}
			switch st {
			case Passed:
				pc.Passed++
			case Failed:
				pc.Failed++
			case Error:
				pc.Errors++
			}
			per[e.Name] = pc
			if st == Error || st == Failed && worst == Passed {
				worst = st
			}
		}
		switch worst {
		case Passed:
			all.Passed++
		case Failed:
			all.Failed++
		case Error:
			all.Errors++
		}
	}
	return all, per
}

// The JSON shape (docs/reports.md). Field names are stable; new fields may be added.
type jsonRun struct {
	Tool    string                    `json:"tool"`
	File    string                    `json:"file"`
	Started time.Time                 `json:"started"`
	Seconds float64                   `json:"seconds"`
	Engines []Engine                  `json:"engines"`
	Summary Counts                    `json:"summary"`
	Engine  map[verdict.Engine]Counts `json:"perEngine"`
	Cases   []jsonCase                `json:"cases"`
}

type jsonCase struct {
	Name string    `json:"name"`
	Line int       `json:"line"`
	From string    `json:"from,omitempty"`
	Runs []jsonRan `json:"runs"`
}

type jsonRan struct {
	Engine      verdict.Engine `json:"engine"`
	Status      Status         `json:"status"`
	Seconds     float64        `json:"seconds"`
	Error       string         `json:"error,omitempty"`
	Failures    []string       `json:"failures,omitempty"`
	Explanation string         `json:"explanation,omitempty"`
	Requests    []jsonRequest  `json:"requests"`
}

type jsonRequest struct {
	Method       string          `json:"method"`
	URL          string          `json:"url"`
	PageOrigin   string          `json:"pageOrigin"`
	Verdict      verdict.Verdict `json:"verdict"`
	EngineReason string          `json:"engineReason,omitempty"`
	Meaning      string          `json:"meaning"`
	Preflight    bool            `json:"preflight"`
	FromCache    bool            `json:"preflightFromCache"`
	Status       int             `json:"status"`
	Transcript   string          `json:"transcript"`
	Mermaid      string          `json:"mermaid"`
}

// WriteJSON writes the run as JSON (docs/reports.md describes the shape).
func (r *Run) WriteJSON(w io.Writer) error {
	all, per := r.Count()
	out := jsonRun{Tool: r.Tool, File: r.File, Started: r.Started.UTC(), Seconds: r.Took.Seconds(), Engines: r.Engines,
		Summary: all, Engine: per, Cases: []jsonCase{}}
	for _, c := range r.Cases {
		jc := jsonCase{Name: c.Name, Line: c.Line, From: c.From, Runs: []jsonRan{}}
		for _, e := range r.Engines {
			o, ok := r.outcome(c, e.Name)
			if !ok {
				jc.Runs = append(jc.Runs, jsonRan{Engine: e.Name, Status: Error, Error: "did not run (interrupted)", Requests: []jsonRequest{}})
				continue
			}
			ran := jsonRan{Engine: e.Name, Status: statusOf(o), Seconds: o.Took.Seconds(), Error: o.Errored(), Explanation: o.Explanation, Requests: []jsonRequest{}}
			for _, f := range o.Failures {
				ran.Failures = append(ran.Failures, f.Message)
			}
			for _, res := range o.Results {
				ran.Requests = append(ran.Requests, requestOf(res))
			}
			jc.Runs = append(jc.Runs, ran)
		}
		out.Cases = append(out.Cases, jc)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("report: write JSON: %w", err)
	}
	return nil
}

func requestOf(res harness.Result) jsonRequest {
	method := res.Request.Method
	if method == "" {
		method = "GET"
	}
	status := 0
	if a := res.Browser.Actual; a != nil {
		status = a.Status
	}
	return jsonRequest{Method: method, URL: res.URL, PageOrigin: res.PageOrigin, Verdict: res.Verdict(),
		EngineReason: res.Browser.EngineReason, Meaning: res.Meaning(), Preflight: res.Preflighted(), FromCache: res.PreflightFromCache(),
		Status: status, Transcript: res.String(), Mermaid: res.Mermaid()}
}

// WriteJUnit writes the run as JUnit XML, with ginkgo's reporter types: a
// test case per case and engine, <failure> for an expectation that did not
// hold, <error> for a case that could not be checked, the transcript in
// system-out, and a property naming each engine's version.
func (r *Run) WriteJUnit(w io.Writer) error {
	suite := reporters.JUnitTestSuite{Name: r.Tool + " " + r.File, Package: r.File, Time: r.Took.Seconds(),
		Timestamp: r.Started.UTC().Format("2006-01-02T15:04:05")}
	for _, e := range r.Engines {
		suite.Properties.Properties = append(suite.Properties.Properties, reporters.JUnitProperty{Name: string(e.Name) + ".version", Value: e.Version})
	}
	for _, c := range r.Cases {
		for _, e := range r.Engines {
			tc := reporters.JUnitTestCase{Name: c.Name + " [" + string(e.Name) + "]", Classname: r.File}
			o, ok := r.outcome(c, e.Name)
			suite.Tests++
			if !ok {
				tc.Status = string(Error)
				tc.Error = &reporters.JUnitError{Message: "did not run (interrupted)", Type: "interrupted"}
				suite.Errors++
				suite.TestCases = append(suite.TestCases, tc)
				continue
			}
			tc.Time = o.Took.Seconds()
			tc.Status = string(statusOf(o))
			switch statusOf(o) {
			case Error:
				tc.Error = &reporters.JUnitError{Message: o.Errored(), Type: "unreachable", Description: o.Report()}
				suite.Errors++
			case Failed:
				tc.Failure = &reporters.JUnitFailure{Message: o.Failures[0].Message, Type: "expectation", Description: o.Report()}
				suite.Failures++
			}
			var out strings.Builder
			for _, res := range o.Results {
				out.WriteString(res.String())
			}
			tc.SystemOut = out.String()
			suite.TestCases = append(suite.TestCases, tc)
		}
	}
	all := reporters.JUnitTestSuites{Tests: suite.Tests, Errors: suite.Errors, Failures: suite.Failures, Time: suite.Time,
		TestSuites: []reporters.JUnitTestSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("report: write JUnit: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(all); err != nil {
		return fmt.Errorf("report: write JUnit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

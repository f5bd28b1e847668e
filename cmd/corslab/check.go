package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/expect"
	"github.com/corslab/corslab/harness/report"
	"github.com/corslab/corslab/harness/verdict"
)

// check runs an expectations file's cases in real browsers, each case in
// every chosen engine: a transcript per failing case, a summary line, one
// line per engine last, JUnit XML on request, exit 1 on any failure.
func check(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	chrome := chromeFlag(fs)
	engines := enginesFlag(fs)
	junit := fs.String("junit", "", "write a JUnit XML report to this `path`")
	htmlOut := fs.String("html", "", "write a self-contained HTML report to this `path`")
	jsonOut := fs.String("json", "", "write a JSON report to this `path` (its shape: docs/reports.md)")
	parallel := fs.Int("p", parallelDefault(), "cases in flight at once (tabs of the same browsers)")
	shardFlag := fs.String("shard", "", "run only shard `i/n` of the cases (cases are dealt round-robin), for a CI job matrix")
	api := fs.String("api", "", "base `URL` of the API the cases' relative URLs go to (overrides the file's api)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: corslab check [--engines LIST] [-p N] [--shard i/n] [--api URL] [--html PATH] [--json PATH] [--junit PATH] [--chrome PATH] FILE")
		fs.PrintDefaults()
	}
	files, err := parseArgs(fs, args) // flags may follow the file name
	if err != nil {
		return &exitError{code: 2}
	}
	if len(files) != 1 {
		fs.Usage()
		return &exitError{code: 2, msg: "check: give exactly one expectations file"}
	}
	chosen, err := parseEngines(*engines)
	if err != nil {
		return &exitError{code: 2, msg: "check: " + err.Error()}
	}
	sh, err := parseShard(*shardFlag)
	if err != nil {
		return &exitError{code: 2, msg: "check: " + err.Error()}
	}
	if *parallel < 1 {
		return &exitError{code: 2, msg: fmt.Sprintf("check: -p %d: need at least 1", *parallel)}
	}
	f, err := expect.Load(files[0])
	if err != nil {
		return &exitError{code: 2, msg: "check: " + err.Error()}
	}
	var mine []harness.Scenario
	for i, c := range f.Cases {
		if sh.has(i) {
			mine = append(mine, c)
		}
	}
	f.Cases = mine
	if *api != "" {
		f.API = *api
	}
	// ShareBrowser: a check is one Env, but several checks in one process
	// (its tests) then share the browsers.
	opts := harness.Options{Engines: chosen, Paths: paths(*chrome), APIURL: f.API, ShareBrowser: true}
	if running, err := harness.ChosenEngines(chosen...); err == nil && slices.Contains(running, verdict.WebKit) && f.API == "" && anyHTTPSPage(f.Cases) {
		// WebKit blocks an https page's requests to an http API as mixed
		// content, even on loopback: corslab's origins serve HTTPS then, for
		// every engine alike (the page origin too, so it stays the API's site).
		opts.Servers.TLS = true
		fmt.Fprintln(stderr, "check: corslab's origins serve HTTPS: a case runs its page as an https origin, and WebKit blocks an https page's requests to http")
	}
	env, err := harness.Start(ctx, opts)
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	defer env.Close()

	start := time.Now()
	type job struct {
		c harness.Scenario
		e verdict.Engine
	}
	var jobs []job
	for _, c := range f.Cases {
		for _, e := range env.Engines() {
			jobs = append(jobs, job{c, e})
		}
	}
	total := len(jobs)
	outcomes := make([]expect.Outcome, total)
	ran := make([]bool, total)
	var runErrs []error
	prog := newProgress(stderr, "check", total)
	if sh.n > 1 {
		fmt.Fprintf(stderr, "check: shard %s: %d of the file's cases\n", sh, len(f.Cases))
	}
	forEach(ctx, total, *parallel, func(i int) {
		prog.begin(i+1, jobs[i].c.Name+" ["+string(jobs[i].e)+"]")
		o, _ := expect.Run(ctx, env.In(jobs[i].e), jobs[i].c)
		outcomes[i], ran[i] = o, true
		prog.step(!o.Passed())
	}, func(i int) {
		if o := outcomes[i]; !o.Passed() {
			fmt.Fprintln(stdout, o.Report())
			if o.Err != nil {
				runErrs = append(runErrs, o.Err)
			}
		}
	})
	prog.end()
	var done []expect.Outcome
	for i := range jobs {
		if ran[i] {
			done = append(done, outcomes[i])
		}
	}
	outcomes = done
	printSummary(stdout, f.Cases, env.Engines(), outcomes)
	rep := &report.Run{Tool: "corslab check", File: f.Path, Started: start, Took: time.Since(start), Cases: f.Cases, Outcomes: outcomes}
	for _, e := range env.Engines() {
		rep.Engines = append(rep.Engines, report.Engine{Name: e, Version: env.In(e).Version()})
	}
	for _, w := range []struct {
		path  string
		write func(io.Writer) error
	}{{*junit, rep.WriteJUnit}, {*htmlOut, rep.WriteHTML}, {*jsonOut, rep.WriteJSON}} {
		if w.path == "" {
			continue
		}
		if err := writeFile(w.path, w.write); err != nil {
			return fmt.Errorf("check: %w", err)
		}
	}
	if ctx.Err() != nil {
		return &exitError{code: 130, msg: "check: interrupted"}
	}
	failed := 0
	for _, o := range outcomes {
		if !o.Passed() {
			failed++
		}
	}
	if failed > 0 || len(outcomes) < total {
		e := &exitError{code: 1}
		if err := errors.Join(runErrs...); err != nil {
			e.msg = err.Error()
		}
		return e
	}
	return nil
}

// anyHTTPSPage reports whether a case runs its page as an https origin.
func anyHTTPSPage(cases []harness.Scenario) bool {
	for _, c := range cases {
		if strings.HasPrefix(c.From, "https://") {
			return true
		}
	}
	return false
}

// printSummary prints "check: N cases, P passed, F failed" (a case passes
// when it passed in every engine), then one such line per engine.
func printSummary(w io.Writer, cases []harness.Scenario, engines []verdict.Engine, outcomes []expect.Outcome) {
	perEngine := map[verdict.Engine]int{} // passes per engine
	perCase := map[int]int{}              // passes per case (by its line)
	for _, o := range outcomes {
		if o.Passed() {
			perEngine[o.Engine]++
			perCase[o.Case.Line]++
		}
	}
	passed := 0
	for _, c := range cases {
		if perCase[c.Line] == len(engines) {
			passed++
		}
	}
	fmt.Fprintf(w, "check: %d cases, %d passed, %d failed\n", len(cases), passed, len(cases)-passed)
	for _, e := range engines {
		fmt.Fprintf(w, "check [%s]: %d cases, %d passed, %d failed\n", e, len(cases), perEngine[e], len(cases)-perEngine[e])
	}
	// Several attached browsers of one engine ($CORSLAB_CHROME_URL): say how the cases were spread.
	type key struct {
		e        verdict.Engine
		instance string
	}
	ran := map[key]int{}
	var order []key
	for _, o := range outcomes {
		if len(o.Results) == 0 {
			continue
		}
		k := key{o.Engine, o.Results[0].Browser.Instance}
		if ran[k] == 0 {
			order = append(order, k)
		}
		ran[k]++
	}
	for _, e := range engines {
		var parts []string
		for _, k := range order {
			if k.e == e {
				parts = append(parts, fmt.Sprintf("%d on %s", ran[k], k.instance))
			}
		}
		if len(parts) > 1 {
			fmt.Fprintf(w, "check [%s]: cases spread across %d browsers: %s\n", e, len(parts), strings.Join(parts, ", "))
		}
	}
}

// writeFile writes a report to path through write.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

package main

import (
	"context"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/corslab/corslab/harness/probe"
	"github.com/onsi/ginkgo/v2/reporters"
)

// listFlag is a repeatable flag: every use adds a value.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ", ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// probeFlags are the flags of a probe.Config field, for messages about bad input.
var probeFlags = map[string]string{
	"Trusted": "--as", "URL": "URL", "Paths": "--path", "Methods": "--method", "Cookies": "--cookie",
	"Classes": "--class", "Rate": "--rate", "Shard": "--shard", "Timeout": "--timeout",
}

// probeCmd proves a server's CORS holes in real browsers: a human report
// ending with the summary line, JSON, SARIF, JUnit and an expectations file
// on request; exit 1 when a finding reaches --fail-on, 2 on bad usage.
func probeCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	as := fs.String("as", "", "the trusted `origin` your policy allows, e.g. https://app.example.com (required)")
	var pathList, methods, cookies listFlag
	fs.Var(&pathList, "path", "a `path` to probe on the URL's origin, e.g. /api/me (repeatable; default: the URL's path)")
	fs.Var(&methods, "method", "a `method` to send (repeatable; default GET); unsafe methods (POST, PUT, DELETE, …) are sent only when named, and show executed-despite-block")
	fs.Var(&cookies, "cookie", "a Set-Cookie `line` stored as the target's first-party cookie before each credentialed request, e.g. 'sid=…; SameSite=None; Secure' (repeatable)")
	classes := fs.String("class", "", "only these `classes`, comma-separated (default: all)")
	chrome := chromeFlag(fs)
	engines := enginesFlag(fs)
	allowRemote := fs.Bool("allow-remote", false, "allow a target that is not loopback, localhost or *.test (prints what it will send first)")
	rate := fs.Float64("rate", -1, "at most `N` requests per second to the target (default: 5 for a remote target, no limit for a local one; 0: no limit)")
	timeout := fs.Duration("timeout", 0, "bound each request to this `duration` (default 30s)")
	jsonOut := fs.String("json", "", "write the findings as JSON to this `file`")
	sarifOut := fs.String("sarif", "", "write the findings as SARIF 2.1.0 to this `file` (code scanning)")
	junitOut := fs.String("junit", "", "write a JUnit XML report to this `file` (one test per class and request)")
	expOut := fs.String("write-expectations", "", "write what was observed as an expectations `file` for corslab check")
	failOnFlag := fs.String("fail-on", "low", "exit 1 when a finding is at least this `severity`: low, medium, high, or none")
	parallel := fs.Int("p", parallelDefault(), "scenarios in flight at once (tabs of the same browsers)")
	shardFlag := fs.String("shard", "", "probe only shard `i/n` of the attacker origins (dealt round-robin), for a CI job matrix")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: corslab probe --as ORIGIN [--path P]… [--method M]… [--cookie LINE]… [--json FILE] [--sarif FILE] [--junit FILE] [--write-expectations FILE] [--fail-on SEVERITY] [-p N] [--shard i/n] [--engines LIST] [--allow-remote [--rate N]] URL")
		fs.PrintDefaults()
	}
	urls, err := parseArgs(fs, args) // flags may follow the URL
	if err != nil {
		return &exitError{code: 2}
	}
	usage := func(format string, a ...any) error {
		return &exitError{code: 2, msg: "probe: " + fmt.Sprintf(format, a...)}
	}
	if len(urls) != 1 {
		fs.Usage()
		return usage("give exactly one URL to probe (got %d)", len(urls))
	}
	failOn, err := probe.ParseFailOn(*failOnFlag)
	if err != nil {
		return usage("--fail-on %q: %v", *failOnFlag, err)
	}
	chosen, err := parseEngines(*engines)
	if err != nil {
		return usage("%v", err)
	}
	sh, err := parseShard(*shardFlag)
	if err != nil {
		return usage("%v", err)
	}
	if *parallel < 1 {
		return usage("-p %d: need at least 1", *parallel)
	}
	cls, err := probe.ParseClasses(*classes)
	if err != nil {
		return usage("--class %q: %v", *classes, err)
	}
	cfg := probe.Config{Trusted: *as, URL: urls[0], Paths: pathList, Methods: methods, Cookies: cookies, Classes: cls,
		Engines: chosen, BrowserPaths: paths(*chrome), AllowRemote: *allowRemote, Rate: *rate, Timeout: *timeout}
	if sh.n > 1 {
		cfg.Shard, cfg.Shards = sh.i, sh.n
	}
	if cfg.Rate < 0 {
		cfg.Rate = 0
		if cfg.Remote() {
			cfg.Rate = 5
		}
	}
	if err := cfg.Check(); err != nil {
		return badInput(err)
	}
	for _, out := range []struct{ flag, path string }{{"--json", *jsonOut}, {"--sarif", *sarifOut}, {"--junit", *junitOut}, {"--write-expectations", *expOut}} {
		if out.path != "" {
			if err := writable(out.path); err != nil {
				return usage("%s %q: %v", out.flag, out.path, err)
			}
		}
	}

	start := time.Now()
	p, err := probe.Start(ctx, cfg)
	if err != nil {
		return badInput(err)
	}
	defer p.Close()
	if cfg.Remote() {
		fmt.Fprintln(stdout, "probe: --allow-remote: this probe sends, before anything else,")
		for _, l := range p.Plan() {
			fmt.Fprintln(stdout, "  "+l)
		}
		fmt.Fprintln(stdout)
	}
	for {
		jobs, err := p.Next(ctx)
		if err != nil {
			return &exitError{code: 2, msg: err.Error()}
		}
		if len(jobs) == 0 {
			break
		}
		prog := newProgress(stderr, "probe ("+jobs[0].Batch+")", len(jobs))
		forEach(ctx, len(jobs), *parallel, func(i int) {
			prog.begin(i+1, jobs[i].Name)
			err := jobs[i].Run(ctx)
			prog.step(err != nil)
		}, func(int) {})
		prog.end()
		if ctx.Err() != nil {
			return &exitError{code: 130, msg: "probe: interrupted"}
		}
	}
	rep := p.Report()
	if *jsonOut != "" {
		if err := writeWith(*jsonOut, rep.JSON); err != nil {
			return err
		}
	}
	if *sarifOut != "" {
		if err := writeWith(*sarifOut, rep.SARIF); err != nil {
			return err
		}
	}
	if *junitOut != "" {
		if err := writeWith(*junitOut, func() ([]byte, error) { return probeJUnit(rep, cls, time.Since(start)) }); err != nil {
			return err
		}
	}
	if *expOut != "" {
		if err := writeWith(*expOut, rep.WriteExpectations); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "probe: wrote %d cases to %s (corslab check %s)\n", len(rep.Expectations().Cases), *expOut, *expOut)
		for _, o := range rep.Omitted() {
			fmt.Fprintf(stderr, "probe: left out of %s: %s\n", *expOut, o)
		}
	}
	rep.WriteText(stdout)
	if len(rep.Errors) > 0 {
		return &exitError{code: 2, msg: fmt.Sprintf("probe: %d of the scenarios could not run, so the findings are incomplete (listed above)", len(rep.Errors))}
	}
	if rep.Reaches(failOn) {
		return &exitError{code: 1}
	}
	return nil
}

// badInput turns a probe.InputError into exit 2 with a message naming the flag and the value.
func badInput(err error) error {
	var ie *probe.InputError
	if errors.As(err, &ie) {
		flagName := probeFlags[ie.Field]
		if flagName == "" {
			flagName = ie.Field
		}
		return &exitError{code: 2, msg: fmt.Sprintf("probe: %s %q: %v", flagName, ie.Value, ie.Err)}
	}
	return &exitError{code: 2, msg: err.Error()} // the browsers or the origins could not start
}

// writable checks, before any browser starts, that a report can be written to path.
func writable(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}

func writeWith(path string, encode func() ([]byte, error)) error {
	b, err := encode()
	if err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	return nil
}

// probeJUnit is one test case per class and request: failed when a finding
// of that class holds there (itself, or folded into another's finding).
func probeJUnit(rep *probe.Report, classes []probe.Class, took time.Duration) ([]byte, error) {
	s := reporters.JUnitTestSuite{Name: "corslab probe " + rep.Target + " as " + rep.Trusted, Package: rep.Target, Time: took.Seconds()}
	skipped := map[probe.Class]bool{}
	for _, sk := range rep.Skipped {
		skipped[sk.Class] = true
	}
	for _, c := range classes {
		if skipped[c] {
			continue
		}
		for _, m := range rep.Methods {
			for _, path := range rep.Paths {
				jc := reporters.JUnitTestCase{Name: fmt.Sprintf("%s: %s %s", c, m, path), Classname: "corslab.probe." + string(c), Status: "passed"}
				for _, f := range rep.Findings {
					if f.Method != m || f.URL != rep.Target+path {
						continue
					}
					folded := slices.ContainsFunc(f.Also, func(a probe.Also) bool { return a.Class == c })
					if f.Class != c && !folded {
						continue
					}
					msg := fmt.Sprintf("%s: %s", f.Severity, f.Summary)
					if f.Class != c {
						msg = fmt.Sprintf("%s: %s holds too, as part of the %s finding: %s", f.Severity, c, f.Class, f.Summary)
					}
					var text strings.Builder
					for _, e := range f.Evidence {
						text.WriteString(e.Transcript)
					}
					jc.Failure = &reporters.JUnitFailure{Message: msg, Type: string(f.Severity), Description: text.String()}
					jc.Status = "failed"
					break
				}
				if jc.Failure != nil {
					s.Failures++
				}
				s.Tests++
				s.TestCases = append(s.TestCases, jc)
			}
		}
	}
	b, err := xml.MarshalIndent(reporters.JUnitTestSuites{Tests: s.Tests, Failures: s.Failures, Time: s.Time, TestSuites: []reporters.JUnitTestSuite{s}}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode JUnit: %w", err)
	}
	return append([]byte(xml.Header), append(b, '\n')...), nil
}

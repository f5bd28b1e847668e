package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/model"
	"github.com/corslab/corslab/harness/verdict"
	"github.com/corslab/corslab/servers"
)

// choice is one value of one matrix dimension: a label for the report and
// what it does to the cell being built.
type choice struct {
	label string
	apply func(*cell)
}

// dimension is one axis of the matrix. A choice listed twice is drawn twice
// as often, so the passing paths (and the cache behind them) are reached.
type dimension struct {
	name    string
	choices []choice
}

// cell is a matrix cell while its choices are applied: the request, how the
// preflight's lists are made from it, and the second send, if any.
type cell struct {
	req harness.Request
	// how Allow-Methods and -Headers are made from the request: exact, case, *, invalid, "" (none)
	acam, acah string
	// invalidAllowHeaders answers the preflight with an Allow-Headers that is not a list of tokens
	invalidAllowHeaders bool
	// again makes the second send (the same URL) from the first's request; nil sends once
	again func(harness.Request) harness.Request
}

// matrixDimensions are the axes combined into scenarios; origin is the page origin.
func matrixDimensions(origin string) []dimension {
	hdr := func(label string, hs ...servers.Header) choice {
		return choice{label, func(s *cell) { s.req.Headers = hs }}
	}
	method := func(m string) choice { return choice{m, func(s *cell) { s.req.Method = m }} }
	h := func(n, v string) servers.Header { return servers.Header{Name: n, Value: v} }
	acao := func(label string, v ...string) choice {
		return choice{label, func(s *cell) { s.req.Policy.AllowOrigin = v }}
	}
	return []dimension{
		{"method", []choice{method("GET"), method("POST"), method("post"), method("PUT"), method("put"),
			method("PATCH"), method("patch"), method("DELETE")}},
		{"headers", []choice{
			hdr("none"),
			hdr("accept", h("Accept", "application/json")),
			hdr("accept-unsafe-byte", h("Accept", `text/"x"`)),
			hdr("content-language-129", h("Content-Language", strings.Repeat("a", 129))),
			hdr("ct-text", h("Content-Type", "text/plain;charset=UTF-8")),
			hdr("ct-json", h("Content-Type", "application/json")),
			hdr("ct-list", h("Content-Type", "text/plain, application/json")),
			hdr("custom", h("X-Corslab", "1")),
			hdr("authorization", h("Authorization", "Bearer t")),
			hdr("range", h("Range", "bytes=0-10")),
			hdr("dpr", h("DPR", "2")),
			hdr("device-memory", h("Device-Memory", "8")),
			hdr("save-data", h("Save-Data", "on")),
			{"allow-headers-invalid", func(s *cell) { s.req.Headers = []servers.Header{h("X-Corslab", "1")}; s.invalidAllowHeaders = true }},
			hdr("custom+ct-json", h("X-Corslab", "1"), h("Content-Type", "application/json")),
		}},
		{"api", []choice{{"xhr", func(s *cell) { s.req.API = harness.XHR }}, {"fetch", func(s *cell) { s.req.API = harness.Fetch }}}},
		{"credentials", []choice{{"omit", func(*cell) {}}, {"include", func(s *cell) { s.req.Credentials = true }}}},
		{"allow-origin", []choice{
			acao("echo", servers.Echo), acao("echo", servers.Echo), acao("echo", servers.Echo), acao("echo", servers.Echo),
			acao("*", "*"), acao("*", "*"), acao("missing"), acao("other", "http://other.example"),
			acao("trailing-slash", origin+"/"), acao("null", "null"), acao("empty", ""),
			acao("two-lines", servers.Echo, servers.Echo), acao("list", origin+", http://other.example"),
		}},
		{"allow-methods", []choice{
			{"exact", func(s *cell) { s.acam = "exact" }}, {"exact", func(s *cell) { s.acam = "exact" }},
			{"case-changed", func(s *cell) { s.acam = "case" }}, {"*", func(s *cell) { s.acam = "*" }},
			{"missing", func(s *cell) { s.acam = "" }}, {"invalid", func(s *cell) { s.acam = "invalid" }},
		}},
		{"allow-headers", []choice{
			{"exact", func(s *cell) { s.acah = "exact" }}, {"exact", func(s *cell) { s.acah = "exact" }},
			{"case-changed", func(s *cell) { s.acah = "case" }}, {"*", func(s *cell) { s.acah = "*" }},
			{"missing", func(s *cell) { s.acah = "" }},
		}},
		{"allow-credentials", []choice{
			{"none", func(*cell) {}}, {"true", func(s *cell) { s.req.Policy.AllowCredentials = "true" }},
			{"true", func(s *cell) { s.req.Policy.AllowCredentials = "true" }},
			{"True", func(s *cell) { s.req.Policy.AllowCredentials = "True" }},
			{"padded", func(s *cell) { s.req.Policy.AllowCredentials = "true " }},
		}},
		{"preflight-status", []choice{
			{"204", func(*cell) {}}, {"204", func(*cell) {}}, {"204", func(*cell) {}},
			{"200", func(s *cell) { s.req.Policy.PreflightStatus = 200 }},
			{"404", func(s *cell) { s.req.Policy.PreflightStatus = 404 }},
			{"302", func(s *cell) { s.req.Policy.PreflightStatus = 302 }},
			{"500", func(s *cell) { s.req.Policy.PreflightStatus = 500 }},
		}},
		{"max-age", []choice{
			{"none", func(*cell) {}}, {"0", func(s *cell) { s.req.Policy.MaxAge = "0" }},
			{"600", func(s *cell) { s.req.Policy.MaxAge = "600" }},
			{"99999", func(s *cell) { s.req.Policy.MaxAge = "99999" }},
			{"-1", func(s *cell) { s.req.Policy.MaxAge = "-1" }},
			{"abc", func(s *cell) { s.req.Policy.MaxAge, s.req.Policy.MaxAgeRaw = "abc", true }},
		}},
		{"expose", []choice{
			{"none", func(*cell) {}},
			{"X-Exposed", func(s *cell) { s.req.Policy.ExposeHeaders = []string{"X-Exposed"} }},
			{"*", func(s *cell) { s.req.Policy.ExposeHeaders = []string{"*"} }},
			{"list", func(s *cell) { s.req.Policy.ExposeHeaders = []string{"x-exposed, X-Other"} }},
			{"invalid", func(s *cell) { s.req.Policy.ExposeHeaders = []string{"X-Exposed X-Other"} }},
		}},
		{"status", []choice{
			{"200", func(*cell) {}}, {"200", func(*cell) {}},
			{"404", func(s *cell) { s.req.Policy.Status = 404 }},
			{"500", func(s *cell) { s.req.Policy.Status = 500 }},
		}},
		{"repeat", []choice{
			{"once", func(*cell) {}},
			{"twice", func(s *cell) { s.again = func(r harness.Request) harness.Request { return r } }},
			{"then-credentialed", func(s *cell) {
				s.again = func(r harness.Request) harness.Request { r.Credentials = true; return r }
			}},
			{"then-uncredentialed", func(s *cell) {
				s.again = func(r harness.Request) harness.Request { r.Credentials = false; return r }
			}},
			{"then-another-header", func(s *cell) {
				s.again = func(r harness.Request) harness.Request {
					r.Headers = append(slices.Clone(r.Headers), servers.Header{Name: "X-Second", Value: "1"})
					return r
				}
			}},
		}},
	}
}

// swapCase turns upper-case letters to lower case and the other way round.
func swapCase(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z':
			b[i] = c - 32
		case c >= 'A' && c <= 'Z':
			b[i] = c + 32
		}
	}
	return string(b)
}

// build turns the choices picked by index into a Scenario: one send, or two
// when the repeat dimension sends again to the same URL (the second asks the
// preflight cache).
func build(dims []dimension, index []int) harness.Scenario {
	var c cell
	var labels []string
	for i, d := range dims {
		ch := d.choices[index[i]]
		ch.apply(&c)
		labels = append(labels, d.name+"="+ch.label)
	}
	// The preflight's lists are made from the request, as the chosen form says.
	method := model.NormalizeMethod(c.req.Method)
	switch c.acam {
	case "exact":
		c.req.Policy.AllowMethods = []string{method}
	case "case":
		c.req.Policy.AllowMethods = []string{swapCase(method)}
	case "*":
		c.req.Policy.AllowMethods = []string{"*"}
	case "invalid":
		c.req.Policy.AllowMethods = []string{method + " GET"}
	}
	var names []string
	for _, h := range c.req.Headers {
		names = append(names, h.Name)
	}
	if len(names) == 0 {
		names = []string{"X-Unused"}
	}
	switch c.acah {
	case "exact":
		c.req.Policy.AllowHeaders = []string{strings.Join(names, ", ")}
	case "case":
		c.req.Policy.AllowHeaders = []string{swapCase(strings.Join(names, ", "))}
	case "*":
		c.req.Policy.AllowHeaders = []string{"*"}
	}
	if c.invalidAllowHeaders {
		c.req.Policy.AllowHeaders = []string{"X-Corslab X-Other"}
	}
	c.req.Policy.Headers = []servers.Header{{Name: "X-Exposed", Value: "1"}, {Name: "X-Other", Value: "2"}}
	sc := harness.Scenario{Name: strings.Join(labels, " "), Sends: []harness.Send{{Request: c.req}}}
	if c.again != nil {
		sc.Sends = append(sc.Sends, harness.Send{Request: c.again(c.req), Reuse: 1})
	}
	return sc
}

// scenarios draws n distinct cells of the matrix, the same ones for the same seed.
func scenarios(dims []dimension, n int, seed uint64) []harness.Scenario {
	total := 1
	for _, d := range dims {
		total *= len(d.choices)
	}
	n = min(n, total)
	rng := rand.New(rand.NewPCG(seed, 0x636f72736c6162))
	seen := map[string]bool{}
	var out []harness.Scenario
	for len(out) < n {
		idx := make([]int, len(dims))
		for i, d := range dims {
			idx[i] = rng.IntN(len(d.choices))
		}
		s := build(dims, idx)
		if seen[s.Name] {
			continue
		}
		seen[s.Name] = true
		out = append(out, s)
	}
	return out
}

// matrix runs generated scenarios in real Chrome and compares each with the model.
func matrix(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("matrix", flag.ContinueOnError)
	fs.SetOutput(stderr)
	chrome := chromeFlag(fs)
	n := fs.Int("sample", 1500, "how many scenarios to draw from the matrix")
	seed := fs.Uint64("seed", 1, "the draw's seed: the same seed gives the same scenarios")
	engineName := fs.String("engine", "chromium", "the engines to run the scenarios in, one after the other: chromium, firefox, webkit, a comma-separated list, or all")
	profileName := fs.String("profile", "", `the model profile to compare with: "" for the engine's own, or "fetch" (the standard as written)`)
	report := fs.String("report", "out/matrix-report.txt", "where to write the mismatches with their transcripts")
	parallel := fs.Int("p", parallelDefault(), "scenarios in flight at once (tabs of one browser)")
	shardFlag := fs.String("shard", "", "run only shard `i/n` of the drawn scenarios (dealt round-robin), for a CI job matrix")
	if err := fs.Parse(args); err != nil {
		return &exitError{code: 2}
	}
	sh, err := parseShard(*shardFlag)
	if err != nil {
		return &exitError{code: 2, msg: "matrix: " + err.Error()}
	}
	if *parallel < 1 {
		return &exitError{code: 2, msg: fmt.Sprintf("matrix: -p %d: need at least 1", *parallel)}
	}
	if *n < 1 {
		return &exitError{code: 2, msg: fmt.Sprintf("matrix: --sample %d: need at least 1 scenario", *n)}
	}
	engines, err := verdict.ParseEngines(*engineName)
	if err != nil {
		return &exitError{code: 2, msg: fmt.Sprintf("matrix: --engine %q: want chromium, firefox, webkit, a comma-separated list of them, or all", *engineName)}
	}
	if *profileName != "" && *profileName != "fetch" {
		return &exitError{code: 2, msg: fmt.Sprintf("matrix: --profile %q: must be \"\" (the engine's own) or \"fetch\"", *profileName)}
	}
	bad := 0
	for _, engine := range engines {
		n, err := matrixIn(ctx, engine, *profileName, *chrome, *n, *seed, sh, *parallel, reportPath(*report, engine, len(engines)), stdout, stderr)
		if err != nil {
			return err
		}
		bad += n
	}
	if bad > 0 {
		return &exitError{code: 1}
	}
	return nil
}

// reportPath is where the report of engine goes: path itself for one engine,
// else path with the engine's name before its extension.
func reportPath(path string, engine verdict.Engine, engines int) string {
	if engines == 1 {
		return path
	}
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + "-" + string(engine) + ext
}

// matrixIn runs the drawn scenarios (shard sh of them) in engine and
// compares them with the profile; it returns the number of mismatches.
func matrixIn(ctx context.Context, engine verdict.Engine, profileName, chrome string, n int, seed uint64, sh shard, parallel int, report string, stdout, stderr io.Writer) (int, error) {
	profile, ok := model.For(engine)
	if profileName == "fetch" {
		profile, ok = model.Standard, true
	}
	if !ok {
		return 0, &exitError{code: 2, msg: fmt.Sprintf("matrix: the model has no profile of %s", engine.Title())}
	}
	env, err := harness.Start(ctx, harness.Options{Engines: []verdict.Engine{engine}, Paths: paths(chrome)})
	if err != nil {
		return 0, err
	}
	defer func() {
		if err := env.Close(); err != nil {
			fmt.Fprintln(stderr, "matrix:", err)
		}
	}()
	origin := env.Origins.App.URL
	var list []harness.Scenario
	for i, sc := range scenarios(matrixDimensions(origin), n, seed) {
		if sh.has(i) {
			list = append(list, sc)
		}
	}
	fmt.Fprintf(stdout, "corslab matrix: %d scenarios against the %s profile, in %s, %d in flight\n", len(list), profile.Name, env.Version(), parallel)
	if sh.n > 1 {
		fmt.Fprintf(stdout, "matrix: shard %s of %d drawn scenarios\n", sh, n)
	}
	run := runMatrix(ctx, env, list, profile, parallel, newProgress(stderr, "matrix ["+string(engine)+"]", len(list)))
	if ctx.Err() != nil {
		return 0, &exitError{code: 130, msg: "interrupted"}
	}
	if err := writeReport(report, profile.Name, len(list), run.wall, run.bad, run.reasons); err != nil {
		return 0, err
	}
	fmt.Fprintf(stdout, "matrix: wall time %.2fs, %.0f scenarios/s; report %s\n", run.wall.Seconds(), float64(len(list))/run.wall.Seconds(), report)
	fmt.Fprintf(stdout, "matrix [%s]: %d scenarios, %d mismatches\n", engine, len(list), len(run.bad))
	return len(run.bad), nil
}

// matrixRun is what running a list of scenarios against a profile found.
type matrixRun struct {
	bad     []string       // one report per scenario with a mismatch, in list order
	reasons map[string]int // the kinds of model disagreement, counted
	wall    time.Duration
}

// runMatrix plays list in env, parallel at once, and compares every Result
// with profile (the harness's own prediction when profile is the engine's,
// else a model of its own, with its own preflight cache).
func runMatrix(ctx context.Context, env *harness.Env, list []harness.Scenario, profile model.Profile, parallel int, prog *progress) matrixRun {
	own := model.NewBrowser(profile, env.Origins.App.URL)
	out := matrixRun{reasons: map[string]int{}}
	reports := make([]string, len(list))
	kinds := make([][]string, len(list))
	start := time.Now()
	forEach(ctx, len(list), parallel, func(i int) {
		sc := list[i]
		rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		results, err := env.Play(rctx, sc)
		cancel()
		var problems []string
		if err != nil {
			problems = append(problems, "error: "+err.Error())
		}
		for k, r := range results {
			if profile.Name != r.Predicted.Profile {
				r.Predicted = own.Predict(r.URL, r.Request.Method, r.Request.Headers, r.Request.Credentials, r.Request.Mode, r.Request.UploadListener, r.Request.Policy)
				results[k] = r
			}
			for _, d := range r.ModelDisagreements() {
				problems = append(problems, fmt.Sprintf("request %d: model disagrees: %s", k+1, d))
				kinds[i] = append(kinds[i], fmt.Sprintf("%s → %s %s", r.Predicted.String(), r.Engine, strings.Join(strings.Fields(r.Verdict().String()), " ")))
			}
			for _, d := range r.Disagreements() {
				problems = append(problems, fmt.Sprintf("request %d: views disagree: %s", k+1, d))
			}
		}
		if len(problems) > 0 {
			var sb strings.Builder
			fmt.Fprintf(&sb, "── scenario %d: %s\n", i+1, sc.Name)
			for _, p := range problems {
				sb.WriteString("   " + p + "\n")
			}
			for _, r := range results {
				sb.WriteString(indent(r.String(), "   "))
			}
			reports[i] = sb.String()
		}
		if prog != nil {
			prog.step(len(problems) > 0)
		}
	}, func(i int) {
		if reports[i] != "" {
			out.bad = append(out.bad, reports[i])
		}
		for _, k := range kinds[i] {
			out.reasons[k]++
		}
	})
	if prog != nil {
		prog.end()
	}
	out.wall = time.Since(start)
	return out
}

// writeReport writes the mismatches, with a tally of their kinds, to path.
func writeReport(path, profile string, n int, wall time.Duration, bad []string, reasons map[string]int) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("matrix: report folder: %w", err)
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "corslab matrix against the %s profile: %d scenarios, %d mismatches, %.2fs\n\n", profile, n, len(bad), wall.Seconds())
	if len(reasons) > 0 {
		sb.WriteString("kinds (model prediction → what Chrome did: requests):\n")
		var keys []string
		for k := range reasons {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			return reasons[keys[i]] > reasons[keys[j]] || reasons[keys[i]] == reasons[keys[j]] && keys[i] < keys[j]
		})
		for _, k := range keys {
			fmt.Fprintf(&sb, "  %4d  %s\n", reasons[k], k)
		}
		sb.WriteString("\n")
	}
	for _, b := range bad {
		sb.WriteString(b + "\n")
	}
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		return fmt.Errorf("matrix: write report: %w", err)
	}
	return nil
}

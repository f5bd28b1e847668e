package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/model"
	"github.com/corslab/corslab/servers"
)

// choice is one value of one matrix dimension: a label for the report and
// what it does to the scenario.
type choice struct {
	label string
	apply func(*scenario)
}

// dimension is one axis of the matrix. A choice listed twice is drawn twice
// as often, so the passing paths (and the cache behind them) are reached.
type dimension struct {
	name    string
	choices []choice
}

// The ways a scenario sends a second request with the same token (the same
// URL, so the same preflight-cache entry).
const (
	sameAgain          = "again"
	thenCredentialed   = "credentialed"   // a credentialed request after the first
	thenUncredentialed = "uncredentialed" // a non-credentialed request after the first
	thenAnotherHeader  = "header"         // the first's headers plus X-Second
)

// scenario is one matrix cell: a request, and whether and how to send a second
// one with the same token (the second asks the preflight cache).
type scenario struct {
	label  string
	req    harness.Request
	repeat string
	// what the policy's list-valued answers are made from, set by the request dimensions
	acam, acah string
}

// matrixDimensions are the axes combined into scenarios; origin is the page origin.
func matrixDimensions(origin string) []dimension {
	hdr := func(label string, hs ...servers.Header) choice {
		return choice{label, func(s *scenario) { s.req.Headers = hs }}
	}
	method := func(m string) choice { return choice{m, func(s *scenario) { s.req.Method = m }} }
	h := func(n, v string) servers.Header { return servers.Header{Name: n, Value: v} }
	acao := func(label string, v ...string) choice {
		return choice{label, func(s *scenario) { s.req.Policy.AllowOrigin = v }}
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
			hdr("allow-headers-invalid", h("X-Corslab", "1")),
			hdr("custom+ct-json", h("X-Corslab", "1"), h("Content-Type", "application/json")),
		}},
		{"api", []choice{{"xhr", func(s *scenario) { s.req.API = harness.XHR }}, {"fetch", func(s *scenario) { s.req.API = harness.Fetch }}}},
		{"credentials", []choice{{"omit", func(*scenario) {}}, {"include", func(s *scenario) { s.req.Credentials = true }}}},
		{"allow-origin", []choice{
			acao("echo", servers.Echo), acao("echo", servers.Echo), acao("echo", servers.Echo), acao("echo", servers.Echo),
			acao("*", "*"), acao("*", "*"), acao("missing"), acao("other", "http://other.example"),
			acao("trailing-slash", origin+"/"), acao("null", "null"), acao("empty", ""),
			acao("two-lines", servers.Echo, servers.Echo), acao("list", origin+", http://other.example"),
		}},
		{"allow-methods", []choice{
			{"exact", func(s *scenario) { s.acam = "exact" }}, {"exact", func(s *scenario) { s.acam = "exact" }},
			{"case-changed", func(s *scenario) { s.acam = "case" }}, {"*", func(s *scenario) { s.acam = "*" }},
			{"missing", func(s *scenario) { s.acam = "" }}, {"invalid", func(s *scenario) { s.acam = "invalid" }},
		}},
		{"allow-headers", []choice{
			{"exact", func(s *scenario) { s.acah = "exact" }}, {"exact", func(s *scenario) { s.acah = "exact" }},
			{"case-changed", func(s *scenario) { s.acah = "case" }}, {"*", func(s *scenario) { s.acah = "*" }},
			{"missing", func(s *scenario) { s.acah = "" }},
		}},
		{"allow-credentials", []choice{
			{"none", func(*scenario) {}}, {"true", func(s *scenario) { s.req.Policy.AllowCredentials = "true" }},
			{"true", func(s *scenario) { s.req.Policy.AllowCredentials = "true" }},
			{"True", func(s *scenario) { s.req.Policy.AllowCredentials = "True" }},
			{"padded", func(s *scenario) { s.req.Policy.AllowCredentials = "true " }},
		}},
		{"preflight-status", []choice{
			{"204", func(*scenario) {}}, {"204", func(*scenario) {}}, {"204", func(*scenario) {}},
			{"200", func(s *scenario) { s.req.Policy.PreflightStatus = 200 }},
			{"404", func(s *scenario) { s.req.Policy.PreflightStatus = 404 }},
			{"302", func(s *scenario) { s.req.Policy.PreflightStatus = 302 }},
			{"500", func(s *scenario) { s.req.Policy.PreflightStatus = 500 }},
		}},
		{"max-age", []choice{
			{"none", func(*scenario) {}}, {"0", func(s *scenario) { s.req.Policy.MaxAge = "0" }},
			{"600", func(s *scenario) { s.req.Policy.MaxAge = "600" }},
			{"99999", func(s *scenario) { s.req.Policy.MaxAge = "99999" }},
			{"-1", func(s *scenario) { s.req.Policy.MaxAge = "-1" }},
			{"abc", func(s *scenario) { s.req.Policy.MaxAge, s.req.Policy.MaxAgeRaw = "abc", true }},
		}},
		{"expose", []choice{
			{"none", func(*scenario) {}},
			{"X-Exposed", func(s *scenario) { s.req.Policy.ExposeHeaders = []string{"X-Exposed"} }},
			{"*", func(s *scenario) { s.req.Policy.ExposeHeaders = []string{"*"} }},
			{"list", func(s *scenario) { s.req.Policy.ExposeHeaders = []string{"x-exposed, X-Other"} }},
			{"invalid", func(s *scenario) { s.req.Policy.ExposeHeaders = []string{"X-Exposed X-Other"} }},
		}},
		{"status", []choice{
			{"200", func(*scenario) {}}, {"200", func(*scenario) {}},
			{"404", func(s *scenario) { s.req.Policy.Status = 404 }},
			{"500", func(s *scenario) { s.req.Policy.Status = 500 }},
		}},
		{"repeat", []choice{
			{"once", func(*scenario) {}}, {"twice", func(s *scenario) { s.repeat = sameAgain }},
			{"then-credentialed", func(s *scenario) { s.repeat = thenCredentialed }},
			{"then-uncredentialed", func(s *scenario) { s.repeat = thenUncredentialed }},
			{"then-another-header", func(s *scenario) { s.repeat = thenAnotherHeader }},
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

// build turns the choices picked by index into a scenario.
func build(dims []dimension, index []int) scenario {
	s := scenario{}
	var labels []string
	for i, d := range dims {
		c := d.choices[index[i]]
		c.apply(&s)
		labels = append(labels, d.name+"="+c.label)
	}
	s.label = strings.Join(labels, " ")
	// The preflight's lists are made from the request, as the chosen form says.
	method := model.NormalizeMethod(s.req.Method)
	switch s.acam {
	case "exact":
		s.req.Policy.AllowMethods = []string{method}
	case "case":
		s.req.Policy.AllowMethods = []string{swapCase(method)}
	case "*":
		s.req.Policy.AllowMethods = []string{"*"}
	case "invalid":
		s.req.Policy.AllowMethods = []string{method + " GET"}
	}
	var names []string
	for _, h := range s.req.Headers {
		names = append(names, h.Name)
	}
	if len(names) == 0 {
		names = []string{"X-Unused"}
	}
	switch s.acah {
	case "exact":
		s.req.Policy.AllowHeaders = []string{strings.Join(names, ", ")}
	case "case":
		s.req.Policy.AllowHeaders = []string{swapCase(strings.Join(names, ", "))}
	case "*":
		s.req.Policy.AllowHeaders = []string{"*"}
	}
	if strings.Contains(s.label, "headers=allow-headers-invalid") {
		s.req.Policy.AllowHeaders = []string{"X-Corslab X-Other"}
	}
	s.req.Policy.Headers = []servers.Header{{Name: "X-Exposed", Value: "1"}, {Name: "X-Other", Value: "2"}}
	return s
}

// scenarios draws n distinct cells of the matrix, the same ones for the same seed.
func scenarios(dims []dimension, n int, seed uint64) []scenario {
	total := 1
	for _, d := range dims {
		total *= len(d.choices)
	}
	n = min(n, total)
	rng := rand.New(rand.NewPCG(seed, 0x636f72736c6162))
	seen := map[string]bool{}
	var out []scenario
	for len(out) < n {
		idx := make([]int, len(dims))
		for i, d := range dims {
			idx[i] = rng.IntN(len(d.choices))
		}
		s := build(dims, idx)
		if seen[s.label] {
			continue
		}
		seen[s.label] = true
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
	profileName := fs.String("profile", "chrome", `the model profile to compare with: "chrome" or "fetch" (the standard as written)`)
	report := fs.String("report", "out/matrix-report.txt", "where to write the mismatches with their transcripts")
	if err := fs.Parse(args); err != nil {
		return &exitError{code: 2}
	}
	if *n < 1 {
		return &exitError{code: 2, msg: fmt.Sprintf("matrix: --sample %d: need at least 1 scenario", *n)}
	}
	var profile model.Profile
	switch *profileName {
	case "chrome":
		profile = model.Chrome
	case "fetch":
		profile = model.Standard
	default:
		return &exitError{code: 2, msg: fmt.Sprintf("matrix: --profile %q: must be \"chrome\" or \"fetch\"", *profileName)}
	}
	env, err := harness.Start(ctx, harness.Options{ChromePath: *chrome})
	if err != nil {
		return err
	}
	defer func() {
		if err := env.Close(); err != nil {
			fmt.Fprintln(stderr, "matrix:", err)
		}
	}()
	origin := env.Origins.App.URL
	list := scenarios(matrixDimensions(origin), *n, *seed)
	fmt.Fprintf(stdout, "corslab matrix: %d scenarios against the %s profile, in %s\n", len(list), profile.Name, env.ChromeVersion())

	// The harness predicts with the Chrome profile; another profile predicts on its own, with its own cache.
	own := model.NewBrowser(profile, origin)
	var bad []string
	reasons := map[string]int{}
	start := time.Now()
	for i, sc := range list {
		if ctx.Err() != nil {
			return &exitError{code: 130, msg: "interrupted"}
		}
		results, err := runScenario(ctx, env, sc)
		var problems []string
		if err != nil {
			problems = append(problems, "error: "+err.Error())
		}
		for k, r := range results {
			if profile.Name != model.Chrome.Name {
				r.Predicted = own.Predict(r.URL, r.Request.Method, r.Request.Headers, r.Request.Credentials, r.Request.Mode, r.Request.UploadListener, r.Request.Policy)
				results[k] = r
			}
			for _, d := range r.ModelDisagreements() {
				problems = append(problems, fmt.Sprintf("request %d: model disagrees: %s", k+1, d))
				reasons[fmt.Sprintf("%s → Chrome %s", r.Predicted.String(), r.Verdict())]++
			}
			for _, d := range r.Disagreements() {
				problems = append(problems, fmt.Sprintf("request %d: views disagree: %s", k+1, d))
			}
		}
		if len(problems) > 0 {
			var sb strings.Builder
			fmt.Fprintf(&sb, "── scenario %d: %s\n", i+1, sc.label)
			for _, p := range problems {
				sb.WriteString("   " + p + "\n")
			}
			for _, r := range results {
				sb.WriteString(indent(r.String(), "   "))
			}
			bad = append(bad, sb.String())
		}
		if (i+1)%200 == 0 && i+1 < len(list) {
			el := time.Since(start)
			fmt.Fprintf(stderr, "matrix: %d/%d scenarios, %d mismatches, %.0f scenarios/s\n", i+1, len(list), len(bad), float64(i+1)/el.Seconds())
		}
	}
	wall := time.Since(start)
	if err := writeReport(*report, profile.Name, len(list), wall, bad, reasons); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "matrix: wall time %.2fs, %.0f scenarios/s; report %s\n", wall.Seconds(), float64(len(list))/wall.Seconds(), *report)
	fmt.Fprintf(stdout, "matrix: %d scenarios, %d mismatches\n", len(list), len(bad))
	if len(bad) > 0 {
		return &exitError{code: 1}
	}
	return nil
}

// runScenario sends the scenario's request, and again with the same token when it repeats.
func runScenario(ctx context.Context, env *harness.Env, sc scenario) ([]harness.Result, error) {
	rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	r, err := env.Do(rctx, sc.req)
	if err != nil {
		return []harness.Result{r}, err
	}
	out := []harness.Result{r}
	if sc.repeat != "" {
		again := sc.req
		again.Token = r.Token
		switch sc.repeat {
		case thenCredentialed:
			again.Credentials = true
		case thenUncredentialed:
			again.Credentials = false
		case thenAnotherHeader:
			again.Headers = append(append([]servers.Header{}, sc.req.Headers...), servers.Header{Name: "X-Second", Value: "1"})
		}
		r2, err := env.Do(rctx, again)
		out = append(out, r2)
		if err != nil {
			return out, err
		}
	}
	return out, nil
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

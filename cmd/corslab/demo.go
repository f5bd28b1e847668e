package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/matchers"
	"github.com/corslab/corslab/harness/tour"
	"github.com/corslab/corslab/harness/verdict"
)

// demo runs the article's walk-through in order in every chosen engine,
// narrating each step with its transcripts; where an engine departs from the
// article as corslab measured it, the narration says how.
func demo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	chrome := chromeFlag(fs)
	engines := enginesFlag(fs)
	only := fs.String("step", "", "run only the steps with these IDs, comma-separated (e.g. A7,A8)")
	serveLab := fs.Bool("serve", false, "serve the interactive teaching lab on the page origin until Ctrl-C")
	shots := fs.String("screenshots", "", "drive the lab headless and write its screenshots (PNG) into this folder, then exit")
	if err := fs.Parse(args); err != nil {
		return &exitError{code: 2}
	}
	chosen, err := parseEngines(*engines)
	if err != nil {
		return &exitError{code: 2, msg: "demo: " + err.Error()}
	}
	if *serveLab || *shots != "" {
		return labCommand(ctx, harness.Options{Engines: chosen, Paths: paths(*chrome)}, *shots, stdout)
	}
	start := time.Now()
	env, err := harness.Start(ctx, harness.Options{Engines: chosen, Paths: paths(*chrome)})
	if err != nil {
		return err
	}
	defer env.Close()
	page := env.Origins.App.URL
	fmt.Fprintf(stdout, "corslab demo: the article's CORS walk-through, asked of real browsers\n")
	for _, e := range env.Engines() {
		fmt.Fprintf(stdout, "  %s: %s\n", e, env.In(e).Version())
	}
	fmt.Fprintf(stdout, "  page origin: %s   API origin: %s\n\n", page, env.Origins.API.URL)

	type tally struct{ steps, asSaid, departs, failed int }
	per := map[verdict.Engine]*tally{}
	for _, e := range env.Engines() {
		per[e] = &tally{}
	}
	for _, step := range tour.Article(page) {
		if *only != "" && !contains(strings.Split(*only, ","), step.ID) {
			continue
		}
		fmt.Fprintf(stdout, "── %s ──\n   %s\n", step.Title(), step.Say)
		for _, e := range env.Engines() {
			t := per[e]
			t.steps++
			if len(env.Engines()) > 1 {
				fmt.Fprintf(stdout, "\n   in %s:\n", e.Title())
			}
			// Each step starts from a clean browser, as a reader following the article would.
			results, err := runStep(ctx, env.In(e), step)
			for _, r := range results {
				fmt.Fprintln(stdout)
				fmt.Fprint(stdout, indent(r.String(), "   "))
			}
			// As the article says: its own expectations, without any engine's.
			article := step
			article.Sends = slices.Clone(step.Sends)
			for i := range article.Sends {
				article.Sends[i].For = nil
			}
			asSaid, measured := err, err
			if err == nil {
				asSaid, measured = matchers.Check(article, results), matchers.Check(step, results)
			}
			switch {
			case asSaid == nil:
				t.asSaid++
				fmt.Fprintf(stdout, "\n   ✓ %s behaves as the article says in %s\n", step.ID, e.Title())
			case measured == nil:
				t.departs++
				fmt.Fprintf(stdout, "\n   ≠ %s departs from the article in %s, as corslab measured: %s\n", step.ID, e.Title(), step.Deviations[e])
			default:
				t.failed++
				fmt.Fprintf(stdout, "\n   ✗ %s does NOT behave as the article says in %s:\n%s\n", step.ID, e.Title(), indent(measured.Error(), "     "))
			}
			if d := step.Deviations[e]; d != "" && measured == nil && asSaid == nil {
				fmt.Fprintf(stdout, "     %s: %s\n", e.Title(), d)
			}
			if ctx.Err() != nil {
				break
			}
		}
		fmt.Fprintln(stdout)
		if ctx.Err() != nil {
			break
		}
	}
	steps, failed := 0, 0
	for _, e := range env.Engines() {
		steps, failed = per[e].steps, failed+per[e].failed
	}
	fmt.Fprintf(stdout, "demo: %d steps in %s, %d failed (%.1fs)\n", steps, plural(len(env.Engines()), "engine"), failed, time.Since(start).Seconds())
	for _, e := range env.Engines() {
		t := per[e]
		line := fmt.Sprintf("demo [%s]: %d steps, %d as the article says", e, t.steps, t.asSaid)
		if t.departs > 0 {
			line += fmt.Sprintf(", %d departing as measured", t.departs)
		}
		if t.failed > 0 {
			line += fmt.Sprintf(", %d failing", t.failed)
		}
		fmt.Fprintln(stdout, line)
	}
	if ctx.Err() != nil {
		return &exitError{code: 130, msg: "interrupted"}
	}
	if failed > 0 || steps == 0 {
		return &exitError{code: 1}
	}
	return nil
}

func runStep(ctx context.Context, env *harness.Env, step harness.Scenario) ([]harness.Result, error) {
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	s, err := env.NewSession(sctx)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return s.Play(sctx, step)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.TrimSpace(x) == s {
			return true
		}
	}
	return false
}

func indent(s, pre string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = pre + l
	}
	return strings.Join(lines, "\n") + "\n"
}

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/matchers"
	"github.com/corslab/corslab/harness/tour"
)

// demo runs the article's walk-through in order, narrating each step with its transcripts.
func demo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	chrome := chromeFlag(fs)
	only := fs.String("step", "", "run only the steps with these IDs, comma-separated (e.g. A7,A8)")
	serveLab := fs.Bool("serve", false, "serve the interactive teaching lab on the page origin until Ctrl-C")
	shots := fs.String("screenshots", "", "drive the lab headless and write its screenshots (PNG) into this folder, then exit")
	if err := fs.Parse(args); err != nil {
		return &exitError{code: 2}
	}
	if *serveLab || *shots != "" {
		return labCommand(ctx, harness.Options{Paths: paths(*chrome)}, *shots, stdout)
	}
	start := time.Now()
	env, err := harness.Start(ctx, harness.Options{Paths: paths(*chrome)})
	if err != nil {
		return err
	}
	defer env.Close()
	page := env.Origins.App.URL
	fmt.Fprintf(stdout, "corslab demo: the article's CORS walk-through, asked of a real browser\n")
	fmt.Fprintf(stdout, "  browser: %s\n  page origin: %s   API origin: %s\n\n", env.Version(), page, env.Origins.API.URL)

	steps, failed := 0, 0
	for _, step := range tour.Article(page) {
		if *only != "" && !contains(strings.Split(*only, ","), step.ID) {
			continue
		}
		steps++
		fmt.Fprintf(stdout, "── %s ──\n   %s\n", step.Title(), step.Say)
		if d := step.Deviations[env.Engine()]; d != "" {
			fmt.Fprintf(stdout, "   %s: %s\n", env.Engine().Title(), d)
		}
		// Each step starts from a clean browser, as a reader following the article would.
		results, err := runStep(ctx, env, step)
		for _, r := range results {
			fmt.Fprintln(stdout)
			fmt.Fprint(stdout, indent(r.String(), "   "))
		}
		if err == nil {
			err = matchers.Check(step, results)
		}
		if err != nil {
			failed++
			fmt.Fprintf(stdout, "\n   ✗ %s does NOT behave as the article says:\n%s\n\n", step.ID, indent(err.Error(), "     "))
			if ctx.Err() != nil {
				break
			}
			continue
		}
		fmt.Fprintf(stdout, "\n   ✓ %s behaves as the article says\n\n", step.ID)
	}
	fmt.Fprintf(stdout, "demo: %d steps, %d as the article says, %d not (%.1fs)\n", steps, steps-failed, failed, time.Since(start).Seconds())
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

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/onsi/ginkgo/v2/types"
)

// summary prints one closing line for a ginkgo JSON report ("specs: N
// passed, F failed, S skipped"), or with --soak for several runs' reports
// ("soak: N runs, F failed, flaky specs: …").
func summary(args []string, stdout io.Writer) error {
	soak := len(args) > 0 && args[0] == "--soak"
	if soak {
		args = args[1:]
	}
	if len(args) == 0 || !soak && len(args) != 1 {
		return &exitError{code: 2, msg: "usage: corslab summary REPORT.json | corslab summary --soak RUN1.json RUN2.json …"}
	}
	failedRuns, flaky := 0, map[string]int{}
	var last counts
	for _, path := range args {
		c, err := countReport(path)
		if err != nil {
			return err
		}
		if c.failed > 0 || c.passed == 0 {
			failedRuns++
		}
		for _, name := range c.failures {
			flaky[name]++
		}
		last = c
	}
	if !soak {
		fmt.Fprintf(stdout, "specs: %d passed, %d failed, %d skipped\n", last.passed, last.failed, last.skipped)
		if last.failed > 0 || last.passed == 0 {
			return &exitError{code: 1}
		}
		return nil
	}
	names := slices.Sorted(maps.Keys(flaky))
	list := "none"
	if len(names) > 0 {
		var parts []string
		for _, n := range names {
			parts = append(parts, fmt.Sprintf("%q (%d of %d runs)", n, flaky[n], len(args)))
		}
		list = strings.Join(parts, ", ")
	}
	fmt.Fprintf(stdout, "soak: %d runs, %d failed, flaky specs: %s\n", len(args), failedRuns, list)
	if failedRuns > 0 {
		return &exitError{code: 1}
	}
	return nil
}

type counts struct {
	passed, failed, skipped int
	failures                []string // full names of the specs that failed
}

func countReport(path string) (counts, error) {
	var c counts
	b, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("summary: %w", err)
	}
	var reports []types.Report
	if err := json.Unmarshal(b, &reports); err != nil {
		return c, fmt.Errorf("summary: %s is not a ginkgo JSON report: %w", path, err)
	}
	for _, r := range reports {
		if !r.SuiteSucceeded && len(r.SpecReports) == 0 {
			c.failed++ // the suite did not even run its specs
			c.failures = append(c.failures, r.SuiteDescription+" (suite setup)")
		}
		for _, s := range r.SpecReports {
			switch {
			case s.LeafNodeType != types.NodeTypeIt:
				if s.State.Is(types.SpecStateFailureStates) {
					c.failed++
					c.failures = append(c.failures, r.SuiteDescription+" "+s.LeafNodeType.String())
				}
			case s.State == types.SpecStatePassed:
				c.passed++
			case s.State.Is(types.SpecStateFailureStates):
				c.failed++
				c.failures = append(c.failures, s.FullText())
			default:
				c.skipped++
			}
		}
	}
	return c, nil
}

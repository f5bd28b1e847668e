package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/onsi/ginkgo/v2/types"
)

// summary prints one closing line for a ginkgo JSON report: "specs: N passed, F failed, S skipped".
func summary(args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return &exitError{code: 2, msg: "usage: corslab summary REPORT.json"}
	}
	b, err := os.ReadFile(args[0])
	if err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	var reports []types.Report
	if err := json.Unmarshal(b, &reports); err != nil {
		return fmt.Errorf("summary: %s is not a ginkgo JSON report: %w", args[0], err)
	}
	passed, failed, skipped := 0, 0, 0
	for _, r := range reports {
		for _, s := range r.SpecReports {
			if s.LeafNodeType != types.NodeTypeIt {
				continue
			}
			switch {
			case s.State == types.SpecStatePassed:
				passed++
			case s.State.Is(types.SpecStateFailureStates):
				failed++
			default:
				skipped++
			}
		}
	}
	fmt.Fprintf(stdout, "specs: %d passed, %d failed, %d skipped\n", passed, failed, skipped)
	if failed > 0 || passed == 0 {
		return &exitError{code: 1}
	}
	return nil
}

// Package suite starts corslab for a ginkgo suite with one call: call Start
// in a BeforeSuite. Under `ginkgo -p` every process runs its own BeforeSuite,
// so each gets its own browsers and origins; nothing crosses processes.
// Importing suite links every engine (harness/engines).
package suite

import (
	"context"
	"fmt"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/corslab/corslab/harness"
	_ "github.com/corslab/corslab/harness/engines" // every engine
)

// Start starts the origins and the browsers for this ginkgo process, fails
// the suite with the reason if it cannot, and closes both with DeferCleanup.
// Envs it starts in one process share a browser per engine when their
// settings match (Options.ShareBrowser).
func Start(ctx context.Context, opts harness.Options) *harness.Env {
	ginkgo.GinkgoHelper()
	opts.ShareBrowser = true
	env, err := harness.Start(ctx, opts)
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "corslab could not start")
	ginkgo.DeferCleanup(func() error {
		// Under -p every process has its own browsers: report each one's memory.
		for _, e := range env.Engines() {
			if _, peak := env.In(e).Memory(); peak > 0 {
				ginkgo.AddReportEntry(string(e)+" memory", fmt.Sprintf("process %d: %s PSS %d MiB at the end of the suite",
					ginkgo.GinkgoParallelProcess(), e.Title(), peak>>20), ginkgo.ReportEntryVisibilityAlways)
			}
		}
		if err := env.Close(); err != nil {
			return fmt.Errorf("corslab close: %w", err)
		}
		return nil
	})
	for _, e := range env.Engines() {
		ginkgo.AddReportEntry(string(e), env.In(e).Version()+" ("+env.In(e).BrowserPath()+")", ginkgo.ReportEntryVisibilityNever)
	}
	return env
}

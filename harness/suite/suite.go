// Package suite starts corslab for a ginkgo suite with one call: call Start
// in a BeforeSuite. Under `ginkgo -p` every process runs its own BeforeSuite,
// so each gets its own Chrome and origins; nothing crosses processes.
package suite

import (
	"context"
	"fmt"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/corslab/corslab/harness"
)

// Start starts the origins and Chrome for this ginkgo process, fails the
// suite with the reason if it cannot, and closes both with DeferCleanup.
// Envs it starts in one process share a Chrome when their flags match
// (Options.ShareBrowser).
func Start(ctx context.Context, opts harness.Options) *harness.Env {
	ginkgo.GinkgoHelper()
	opts.ShareBrowser = true
	env, err := harness.Start(ctx, opts)
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "corslab could not start")
	ginkgo.DeferCleanup(func() error {
		// Under -p every process has its own Chrome: report each one's memory.
		if _, peak := env.ChromeRSS(); peak > 0 {
			ginkgo.AddReportEntry("chrome memory", fmt.Sprintf("process %d: Chrome PSS %d MiB at the end of the suite",
				ginkgo.GinkgoParallelProcess(), peak>>20), ginkgo.ReportEntryVisibilityAlways)
		}
		if err := env.Close(); err != nil {
			return fmt.Errorf("corslab close: %w", err)
		}
		return nil
	})
	ginkgo.AddReportEntry("chrome", env.ChromeVersion()+" ("+env.ChromePath()+")", ginkgo.ReportEntryVisibilityNever)
	return env
}

package specs_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/corslab/corslab/harness/tour"
)

// The article's walk-through (SCENARIOS.md section A). The steps are data in
// harness/tour, shared with `corslab demo`; every expectation checks the
// page, browser and server views together.
var _ = Describe("the article's walk-through", func() {
	var entries []TableEntry
	for _, step := range tour.Article("") {
		entries = append(entries, Entry(step.Name(), step.ID, within))
	}
	DescribeTable("in real Chrome",
		func(ctx SpecContext, id string) {
			step := stepByID(id)
			// The shared tab: every send has its own token, so its own
			// preflight-cache entry and cookie path, a clean browser for the
			// step (the isolation specs prove it); a send that reuses a token
			// is the article's own repeat.
			results, err := step.Run(ctx, env.Do)
			Expect(err).NotTo(HaveOccurred())
			for i, send := range step.Sends {
				for _, m := range send.Expect {
					Expect(results[i]).To(m, "%s, request %d of %d", step.ID, i+1, len(step.Sends))
				}
			}
			if step.Chrome != "" {
				AddReportEntry("Chrome differs", step.Chrome)
			}
		},
		entries,
	)
})

func stepByID(id string) tour.Step {
	GinkgoHelper()
	for _, s := range tour.Article(env.Origins.App.URL) {
		if s.ID == id {
			return s
		}
	}
	Fail("no tour step " + id)
	return tour.Step{}
}

package specs_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/matchers"
	"github.com/corslab/corslab/harness/tour"
)

// The article's walk-through (section A of the coverage list). The steps are
// Scenarios in harness/tour, shared with `corslab demo` and the lab's
// presets; every expectation checks the page, browser and server views together.
var _ = Describe("the article's walk-through", func() {
	var entries []TableEntry
	for _, step := range tour.Article("") {
		entries = append(entries, Entry(step.Title(), step.ID, within))
	}
	DescribeTable("in real Chrome",
		func(ctx SpecContext, id string) {
			step := stepByID(id)
			// The shared tab: every send has its own token, so its own
			// preflight-cache entry and cookie path, a clean browser for the
			// step (the isolation specs prove it); a send that reuses an
			// earlier send's URL is the article's own repeat.
			results, err := env.Play(ctx, step)
			Expect(err).NotTo(HaveOccurred())
			Expect(matchers.Check(step, results)).To(Succeed())
			if d := step.Deviations[env.Engine()]; d != "" {
				AddReportEntry(env.Engine().Title()+" differs", d)
			}
		},
		entries,
	)
})

func stepByID(id string) harness.Scenario {
	GinkgoHelper()
	s, ok := tour.Step(env.Origins.App.URL, id)
	if !ok {
		Fail("no tour step " + id)
	}
	return s
}

package specs_test

import (
	"strconv"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/corslab/corslab/harness"
)

// A scenario is data: a harness.Request (with its servers.Policy) and the
// matchers its Result must meet. perAPI turns one scenario into one table
// entry per API, so every topic table runs through createCORSRequest's XHR
// and through fetch() alike.

// perAPI returns an Entry per API for the scenario, the API named in the entry.
func perAPI(name string, apis []string, req harness.Request, ms ...types.GomegaMatcher) []TableEntry {
	var out []TableEntry
	for _, api := range apis {
		out = append(out, Entry(name+" ("+api+")", api, req, ms, within))
	}
	return out
}

// entries flattens the groups perAPI returns into one table.
func entries(groups ...[]TableEntry) []TableEntry {
	var out []TableEntry
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// runScenario sends req through api from the shared tab and asserts every matcher.
func runScenario(ctx SpecContext, api string, req harness.Request, ms []types.GomegaMatcher) harness.Result {
	GinkgoHelper()
	req.API = api
	r, err := env.Do(ctx, req)
	Expect(err).NotTo(HaveOccurred())
	for _, m := range ms {
		Expect(r).To(m)
	}
	return r
}

// scenarioTable is the body of every topic table.
func scenarioTable(ctx SpecContext, api string, req harness.Request, ms []types.GomegaMatcher) {
	runScenario(ctx, api, req, ms)
}

func itoa(n int) string { return strconv.Itoa(n) }

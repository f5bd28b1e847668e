package specs_test

import (
	"strconv"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/matchers"
	"github.com/corslab/corslab/harness/verdict"
)

// A table entry is a Scenario: a harness.Request (with its servers.Policy)
// and what its Result must show, as data (harness.Expect, compiled to the
// matchers). perAPI turns one into one table entry per API, so every topic
// table runs through createCORSRequest's XHR and through fetch() alike.

// perAPI returns an Entry per API for the scenario of req and the expectations es (merged), the API named in the entry.
func perAPI(name string, apis []string, req harness.Request, es ...harness.Expect) []TableEntry {
	var out []TableEntry
	for _, api := range apis {
		req.API = api
		sc := harness.Scenario{Name: name, Sends: []harness.Send{{Request: req, Expect: all(es...)}}}
		out = append(out, Entry(name+" ("+api+")", sc, within))
	}
	return out
}

// all merges expectations: each one's fields replace the earlier ones'.
func all(es ...harness.Expect) harness.Expect {
	var e harness.Expect
	for _, o := range es {
		e = e.With(o)
	}
	return e
}

// The expectations the tables combine.
var (
	allowed        = harness.Expect{Outcome: verdict.Allowed}
	opaque         = harness.Expect{Outcome: verdict.Opaque}
	noPreflight    = harness.Expect{Preflight: harness.Bool(false)}
	preflight      = harness.Expect{Preflight: harness.Bool(true)}
	fromPage       = harness.Expect{FromPageOrigin: true}
	executedAnyway = harness.Expect{Outcome: verdict.Blocked, Executed: harness.Bool(true)}
)

// blocked expects a block for reason, blaming param when one is given.
func blocked(reason verdict.Reason, param ...string) harness.Expect {
	e := harness.Expect{Outcome: verdict.Blocked, Reason: reason}
	if len(param) > 0 {
		e.Parameter = harness.Str(param[0])
	}
	return e
}

// preflightedFor expects an allowed request whose preflight asked for method and headers.
func preflightedFor(method, headers string) harness.Expect {
	return harness.Expect{Outcome: verdict.Allowed, Preflight: harness.Bool(true), PreflightAsks: &harness.PreflightAsk{Method: method, Headers: headers}}
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

// scenarioTable is the body of every topic table: it plays the entry's
// Scenario in the shared tab and checks it with the matchers its expectations compile to.
func scenarioTable(ctx SpecContext, sc harness.Scenario) {
	results, err := env.Play(ctx, sc)
	Expect(err).NotTo(HaveOccurred())
	Expect(matchers.Check(sc, results)).To(Succeed())
}

func itoa(n int) string { return strconv.Itoa(n) }

package probe

import (
	"fmt"
	"strings"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/expect"
	"github.com/corslab/corslab/harness/verdict"
)

// expectations makes one case per request this shard owns, from what the
// engines did with third-party cookies allowed: allowed or blocked (and
// why), whether a preflight went out, and for the trusted origin's
// preflighted request whether the repeat came from the preflight cache.
// Where engines differ, the first engine's result is the case's expect and
// each other engine gets its own. omitted says which requests are left out and why.
func (p *Probe) expectations() (cases []harness.Scenario, omitted []string) {
	var order []key
	byKey := map[key][]*run{}
	for _, r := range p.runs {
		if !r.thirdParty || !r.owned {
			continue
		}
		if _, ok := byKey[r.key]; !ok {
			order = append(order, r.key)
		}
		byKey[r.key] = append(byKey[r.key], r)
	}
	for _, k := range order {
		runs := byKey[k]
		if reason := p.unfit(k, runs); reason != "" {
			omitted = append(omitted, caseName(k)+": "+reason)
			continue
		}
		sc := runs[0].sc
		sc.Sends = append([]harness.Send(nil), sc.Sends...)
		for i := range sc.Sends {
			base := expectOf(runs[0].results, i)
			sc.Sends[i].Expect = base
			for _, r := range runs[1:] {
				if e := expectOf(r.results, i); !sameExpect(e, base) {
					if sc.Sends[i].For == nil {
						sc.Sends[i].For = map[verdict.Engine]harness.Expect{}
					}
					sc.Sends[i].For[r.engine] = e
				}
			}
		}
		cases = append(cases, sc)
	}
	return cases, omitted
}

// unfit says why k's case would not mean the same in `corslab check`, or "".
func (p *Probe) unfit(k key, runs []*run) string {
	for _, r := range runs {
		if r.err != nil || len(r.results) != len(r.sc.Sends) {
			return "it could not run in " + string(r.engine)
		}
		if k.origin != "null" && strings.HasPrefix(k.origin, "http:") && r.engine == verdict.Chromium {
			// check's Chromium counts a loopback API as loopback: a plain-http
			// page, which Chromium grants no local-network permission, is
			// refused (InsecureLocalNetwork) before CORS is asked.
			return "corslab check's Chromium refuses a plain-http page any request to a loopback API (Local Network Access), so the case would test that instead of your policy"
		}
	}
	return ""
}

// expectOf is what the i-th send's Result showed, as an expectation.
func expectOf(results []harness.Result, i int) harness.Expect {
	r := results[i]
	v := r.Verdict()
	e := harness.Expect{Outcome: v.Outcome}
	if v.Outcome == verdict.Blocked {
		e.Reason = v.Reason
	}
	if i == 0 {
		e.Preflight = harness.Bool(r.Preflighted())
	} else {
		e.PreflightCached = harness.Bool(r.PreflightFromCache())
	}
	return e
}

func sameExpect(a, b harness.Expect) bool {
	eq := func(x, y *bool) bool { return x == nil && y == nil || x != nil && y != nil && *x == *y }
	return a.Outcome == b.Outcome && a.Reason == b.Reason && eq(a.Preflight, b.Preflight) && eq(a.PreflightCached, b.PreflightCached)
}

// Expectations is what the probe observed as an expectations file for
// `corslab check` (api: the target's origin): the trusted origin allowed or
// not, each attacker origin blocked or not, preflights and cached
// preflights. A later change of the server's policy fails check with a transcript.
func (r *Report) Expectations() *expect.File {
	return &expect.File{API: r.api, Cases: r.cases}
}

// Omitted says which requests the expectations file leaves out, and why.
func (r *Report) Omitted() []string { return r.omitted }

// WriteExpectations returns the expectations file's YAML.
func (r *Report) WriteExpectations() ([]byte, error) {
	b, err := expect.Marshal(r.Expectations())
	if err != nil {
		return nil, fmt.Errorf("probe: %w", err)
	}
	return b, nil
}

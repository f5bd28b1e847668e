package matchers

import (
	"errors"
	"fmt"
	"strings"

	"github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/verdict"
)

// Compile turns expectations as data into the matchers that check them, so
// a YAML case, a lab preset and a spec entry mean exactly the same thing.
func Compile(e harness.Expect) []types.GomegaMatcher {
	var ms []types.GomegaMatcher
	param := func() []string {
		if e.Parameter == nil {
			return nil
		}
		return []string{*e.Parameter}
	}
	switch {
	case e.Reason != "":
		ms = append(ms, BeBlockedWith(e.Reason, param()...))
	case e.Outcome == verdict.Allowed:
		ms = append(ms, BeAllowed())
	case e.Outcome == verdict.Blocked:
		ms = append(ms, BeBlocked())
	case e.Outcome == verdict.Opaque:
		ms = append(ms, BeOpaque())
	case e.Outcome == verdict.Failed && e.Parameter != nil:
		ms = append(ms, FailWithoutCORSError(*e.Parameter))
	case e.Outcome != "":
		ms = append(ms, HaveOutcome(e.Outcome))
	}
	if e.Preflight != nil {
		ms = append(ms, yesNo(*e.Preflight, BePreflighted()))
	}
	if e.PreflightCached != nil {
		if *e.PreflightCached {
			ms = append(ms, UseCachedPreflight())
		} else {
			ms = append(ms, BePreflighted())
		}
	}
	if a := e.PreflightAsks; a != nil {
		ms = append(ms, SendPreflightWith(a.Method, a.Headers))
	}
	if e.FromPageOrigin {
		ms = append(ms, ComeFromPageOrigin())
	}
	if e.Executed != nil {
		ms = append(ms, yesNo2(*e.Executed, BeExecuted(), NotBeExecuted()))
	}
	if e.AppRan != nil {
		ms = append(ms, yesNo2(*e.AppRan, RunTheApp(), NotRunTheApp()))
	}
	if len(e.Readable) > 0 {
		ms = append(ms, LetPageRead(e.Readable...))
	}
	if len(e.Unreadable) > 0 {
		ms = append(ms, HideFromPage(e.Unreadable...))
	}
	if e.CookiesSent != nil {
		ms = append(ms, SendCookies(e.CookiesSent...))
	}
	if p := e.Page; p != nil {
		ms = append(ms, EndInPage(p.Event, p.Transport))
	}
	if e.Text != nil {
		ms = append(ms, HaveResponseText(*e.Text))
	}
	if e.Status != 0 {
		ms = append(ms, HaveStatus(e.Status))
	}
	if e.VaryOrigin != nil {
		ms = append(ms, yesNo(*e.VaryOrigin, VaryOnOrigin()))
	}
	return ms
}

func yesNo2(want bool, yes, no types.GomegaMatcher) types.GomegaMatcher {
	if want {
		return yes
	}
	return no
}

func yesNo(want bool, m types.GomegaMatcher) types.GomegaMatcher {
	if want {
		return m
	}
	return gomega.Not(m)
}

// Failure is one expectation a send's Result did not meet.
type Failure struct {
	// Send is the 1-based index of the send.
	Send int
	// Message says what was expected and what happened, in one sentence.
	Message string
}

// Judge applies every send's expectations (for the engine of its Result) to
// its Result and returns the failures; a send without a Result fails.
func Judge(sc harness.Scenario, results []harness.Result) []Failure {
	var out []Failure
	for i, snd := range sc.Sends {
		if i >= len(results) {
			out = append(out, Failure{i + 1, "the send did not run"})
			continue
		}
		r := results[i]
		for _, m := range Compile(snd.ExpectIn(r.Engine)) {
			ok, err := m.Match(r)
			var msg string
			switch {
			case err != nil:
				msg = err.Error()
			case ok:
				continue
			default:
				msg = m.FailureMessage(r)
			}
			msg, _, _ = strings.Cut(msg, "\n\n")
			out = append(out, Failure{i + 1, msg})
		}
	}
	return out
}

// Check is Judge as one error: each failure with its send's transcript; nil
// when every expectation held.
func Check(sc harness.Scenario, results []harness.Result) error {
	var errs []error
	for _, f := range Judge(sc, results) {
		msg := fmt.Sprintf("send %d of %d: %s", f.Send, len(sc.Sends), f.Message)
		if f.Send <= len(results) {
			msg += "\n\n" + indent(results[f.Send-1].String())
		}
		errs = append(errs, errors.New(msg))
	}
	return errors.Join(errs...)
}

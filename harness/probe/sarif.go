package probe

import (
	"bytes"
	"fmt"
	"net/url"
	"strings"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"
)

// securitySeverity is the score code scanning ranks a class's rule by
// (GitHub reads the rule's security-severity property): the severity its
// findings usually have.
var securitySeverity = map[Class]string{
	Wildcard: "5.3", InvalidAllowOrigin: "3.1", ExecutedDespiteBlock: "4.3", MissingVaryOrigin: "3.1",
}

// level is the SARIF level of a severity.
func level(s Severity) string {
	switch s {
	case High:
		return "error"
	case Medium:
		return "warning"
	}
	return "note"
}

// SARIF is the findings as a SARIF 2.1.0 log (one rule per class, one
// result per finding, with the request and the answer), for code-scanning
// uploads; it is checked against the SARIF 2.1.0 schema before it is returned.
func (r *Report) SARIF() ([]byte, error) {
	log := sarif.NewReport()
	run := sarif.NewRunWithInformationURI("corslab probe", "https://github.com/corslab/corslab")
	for _, c := range Classes {
		score := securitySeverity[c.Class]
		if score == "" {
			score = "8.1"
		}
		props := sarif.NewPropertyBag().Add("security-severity", score).WithTags([]string{"security", "cors"})
		run.AddRule(string(c.Class)).
			WithName(ruleName(c.Class)).
			WithDescription(c.Means).
			WithMarkdownHelp(fmt.Sprintf("%s.\n\nExample: %s.\n\nFix: %s.", c.Means, c.Example, c.Fix)).
			WithProperties(props)
	}
	for _, f := range r.Findings {
		msg := f.Summary
		if len(f.Also) > 0 {
			msg += "; the same hole let in: " + alsoList(f.Also)
		}
		engines := make([]string, len(f.Engines))
		for i, e := range f.Engines {
			engines[i] = string(e)
		}
		props := sarif.NewPropertyBag().
			Add("severity", string(f.Severity)).Add("origin", f.Origin).Add("credentialed", f.Credentialed).
			Add("engines", engines)
		if f.Limit != "" {
			props.Add("limit", f.Limit)
		}
		method, target := f.Method, f.URL
		req := sarif.NewWebRequest()
		req.Method, req.Target = &method, &target
		req.Headers = map[string]string{"Origin": f.Origin}
		if u, err := url.Parse(f.URL); err == nil {
			proto := u.Scheme
			req.Protocol = &proto
		}
		res := run.CreateResultForRule(string(f.Class)).
			WithLevel(level(f.Severity)).
			WithMessage(sarif.NewTextMessage(msg)).
			AddLocation(sarif.NewLocationWithPhysicalLocation(sarif.NewPhysicalLocation().
				WithArtifactLocation(sarif.NewSimpleArtifactLocation(f.URL)))).
			WithWebRequest(req).
			WithPartialFingerprints(map[string]string{"corslabProbe/v1": strings.Join([]string{string(f.Class), f.Origin, f.Method, f.URL}, " ")}).
			WithProperties(props)
		if len(f.Evidence) > 0 && f.Evidence[0].Status > 0 {
			resp := sarif.NewWebResponse()
			resp.StatusCode = &f.Evidence[0].Status
			res.WithWebResponse(resp)
		}
	}
	log.AddRun(run)
	if err := log.Validate(); err != nil {
		return nil, fmt.Errorf("probe: the SARIF log does not meet the SARIF 2.1.0 schema: %w", err)
	}
	var buf bytes.Buffer
	if err := log.PrettyWrite(&buf); err != nil {
		return nil, fmt.Errorf("probe: write SARIF: %w", err)
	}
	return buf.Bytes(), nil
}

// ruleName is a class as a rule name: prefix-match → PrefixMatch.
func ruleName(c Class) string {
	var sb strings.Builder
	for _, w := range strings.Split(string(c), "-") {
		if w == "" {
			continue
		}
		sb.WriteString(strings.ToUpper(w[:1]) + w[1:])
	}
	return "CORS" + sb.String()
}

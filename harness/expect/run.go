package expect

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/matchers"
	"github.com/corslab/corslab/harness/verdict"
)

// Outcome is what happened to one case in one engine.
type Outcome struct {
	Case   harness.Scenario
	Engine verdict.Engine
	// Results are the case's sends' Results, in order.
	Results []harness.Result
	// Failures are the expectations the browser did not meet, one sentence each.
	Failures []matchers.Failure
	// Err is set when the case could not be run at all.
	Err error
	// Explanation says what the server would have to send for the case to pass; "" when it passed.
	Explanation string
	// Took is how long the case took in this engine.
	Took time.Duration
}

// Passed reports whether the case ran and met every expectation.
func (o Outcome) Passed() bool { return o.Err == nil && len(o.Failures) == 0 }

// Errored says why a case that did not pass could not be checked at all:
// it could not run, or a request it expected to reach the server failed on
// the network (the server was unreachable), so its expectations were never
// put to the server. "" for a case that passed or failed an expectation.
func (o Outcome) Errored() string {
	if o.Err != nil {
		return "could not run: " + o.Err.Error()
	}
	if o.Passed() {
		return ""
	}
	for i, r := range o.Results {
		v := r.Verdict()
		if v.Outcome == verdict.Failed && o.Case.Sends[i].ExpectIn(o.Engine).Outcome != verdict.Failed {
			return fmt.Sprintf("the server could not be reached: %s failed on the network (%s)", r.URL, v.Parameter)
		}
	}
	return ""
}

// Run runs the case in env's engine (a session that fits it: see
// harness.Env.Play) and judges its Results with the matchers. An error
// means the case could not be run at all; it is also in the Outcome.
func Run(ctx context.Context, env *harness.Env, c harness.Scenario) (Outcome, error) {
	out := Outcome{Case: c, Engine: env.Engine()}
	start := time.Now()
	results, err := env.Play(ctx, c)
	out.Took = time.Since(start)
	out.Results = results
	if err != nil {
		out.Err = fmt.Errorf("case %q (line %d) in %s: %w", c.Name, c.Line, env.Engine(), err)
		return out, out.Err
	}
	out.Failures = matchers.Judge(c, results)
	if !out.Passed() {
		out.Explanation = out.explain()
	}
	return out, nil
}

// explain turns the failures into what the server would have to send.
func (o Outcome) explain() string {
	var parts []string
	for _, f := range o.Failures {
		i := f.Send - 1
		if i >= len(o.Results) {
			continue
		}
		r, e := o.Results[i], o.Case.Sends[i].ExpectIn(o.Engine)
		parts = append(parts, advice(r, e)...)
	}
	parts = slices.Compact(parts)
	if len(parts) == 0 {
		return "the views do not tell one story; read the transcript"
	}
	return strings.Join(parts, "; ")
}

// advice is what would make r meet e, in plain words.
func advice(r harness.Result, e harness.Expect) []string {
	var parts []string
	browser := r.Engine.Title()
	v := r.Verdict()
	if (e.Outcome == verdict.Allowed) && v.Outcome != verdict.Allowed {
		if why := r.Explain(); why != "" {
			parts = append(parts, "to allow it, "+why)
		}
	}
	if (e.Outcome == verdict.Blocked || e.Reason != "") && r.Allowed() {
		parts = append(parts, fmt.Sprintf("%s allowed it because the response sent Access-Control-Allow-Origin: %q; to block %s, that header must not name it (nor be *)",
			browser, header(r.Browser.Actual, "access-control-allow-origin"), r.PageOrigin))
	}
	if e.Reason != "" && r.Blocked() && r.Browser.Reason != e.Reason {
		parts = append(parts, browser+" blocked it for another reason: "+r.Explain())
	}
	if e.Preflight != nil && *e.Preflight != r.Preflighted() {
		if *e.Preflight {
			parts = append(parts, "no preflight went out: the request is simple (safelisted method and headers) or its preflight was cached")
		} else {
			parts = append(parts, "a preflight went out: the method or a header is not CORS-safelisted")
		}
	}
	if e.PreflightCached != nil {
		maxAge := header(r.Browser.Preflight, "access-control-max-age")
		if *e.PreflightCached && !r.PreflightFromCache() {
			parts = append(parts, fmt.Sprintf("for %s to cache the preflight, its response must send Access-Control-Max-Age with a positive number of seconds (it sent %q)", browser, maxAge))
		}
		if !*e.PreflightCached && r.PreflightFromCache() {
			parts = append(parts, fmt.Sprintf("%s cached the preflight (no Access-Control-Max-Age means about 5 s); send Access-Control-Max-Age: 0 to make it preflight every time", browser))
		}
	}
	for _, h := range e.Readable {
		if _, ok := r.Page.Headers[strings.ToLower(h)]; !ok && r.Allowed() {
			parts = append(parts, fmt.Sprintf("for the page to read %s, the response must carry it and list it in Access-Control-Expose-Headers (it sent %q)", h, header(r.Browser.Actual, "access-control-expose-headers")))
		}
	}
	if e.CookiesSent != nil {
		parts = append(parts, cookieAdvice(r, e.CookiesSent)...)
	}
	return parts
}

func cookieAdvice(r harness.Result, want []string) []string {
	got := r.CookiesSent()
	var out []string
	if len(want) > 0 && !r.Request.Credentials {
		return []string{"cookies go only with credentials: the request must set withCredentials (xhr) or credentials: include (fetch)"}
	}
	for _, w := range want {
		if slices.Contains(got, w) {
			continue
		}
		reason := "it was not sent"
		if a := r.Browser.Actual; a != nil {
			for _, c := range a.CookiesBlocked {
				if c.Name == w {
					reason = r.Engine.Title() + " held it back (" + strings.Join(c.Reasons, ", ") + "): a cross-site request carries only cookies with SameSite=None; Secure, over HTTPS, when third-party cookies are allowed"
				}
			}
		}
		out = append(out, "cookie "+w+": "+reason)
	}
	return out
}

func header(e *harness.Exchange, h string) string {
	if e == nil {
		return ""
	}
	return e.ResponseHeaders[h]
}

// Report is the case's failure transcript: what was expected, what the
// browser did, the exchange(s), and what the server would have to send.
func (o Outcome) Report() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "✗ %s (line %d) [%s]\n", o.Case.Name, o.Case.Line, o.Engine)
	if o.Err != nil {
		sb.WriteString("  - could not run: " + o.Err.Error() + "\n")
	}
	for _, f := range o.Failures {
		prefix := ""
		if len(o.Case.Sends) > 1 {
			prefix = fmt.Sprintf("send %d: ", f.Send)
		}
		sb.WriteString("  - " + prefix + f.Message + "\n")
	}
	for i, r := range o.Results {
		if len(o.Results) > 1 {
			fmt.Fprintf(&sb, "  send %d:\n", i+1)
			sb.WriteString(indent(indent(r.String())))
			continue
		}
		sb.WriteString(indent(r.String()))
	}
	if o.Explanation != "" {
		sb.WriteString("  explain: " + o.Explanation + "\n")
	}
	return sb.String()
}

func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return "  " + strings.Join(lines, "\n  ") + "\n"
}

package expect

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/matchers"
)

// Outcome is what happened to one case in Chrome.
type Outcome struct {
	Case   Case
	Result harness.Result
	// Repeat is the same request sent again (same URL), when the case checks the preflight cache.
	Repeat *harness.Result
	// Failures are the expectations Chrome did not meet, one sentence each.
	Failures []string
	// Explanation says what the server would have to send for the case to pass; "" when it passed.
	Explanation string
}

// Passed reports whether Chrome met every expectation of the case.
func (o Outcome) Passed() bool { return len(o.Failures) == 0 }

// Run sends the case's request (and its repeat, when the case checks the
// preflight cache) from a fresh session on the case's page origin and judges
// the result with the matchers. An error means the case could not be run at all.
func (c Case) Run(ctx context.Context, env *harness.Env) (Outcome, error) {
	out := Outcome{Case: c}
	var s *harness.Session
	var err error
	if c.From == "" {
		s, err = env.NewSession(ctx)
	} else {
		s, err = env.NewSessionAs(ctx, c.From)
	}
	if err != nil {
		return out, fmt.Errorf("case %q (line %d): %w", c.Name, c.Line, err)
	}
	defer s.Close()
	req := c.Request
	req.Token = harness.NewToken()
	for _, ck := range c.Cookies {
		if err := s.SetCookie(ctx, s.RequestURL(req, req.Token), ck); err != nil {
			return out, fmt.Errorf("case %q (line %d): %w", c.Name, c.Line, err)
		}
	}
	if out.Result, err = s.Do(ctx, req); err != nil {
		return out, fmt.Errorf("case %q (line %d): %w", c.Name, c.Line, err)
	}
	e := c.Expect
	for _, m := range c.matchers() {
		out.judge(m, out.Result, "")
	}
	if e.PreflightCached != nil {
		rep, err := s.Do(ctx, req)
		if err != nil {
			return out, fmt.Errorf("case %q (line %d): repeat: %w", c.Name, c.Line, err)
		}
		out.Repeat = &rep
		if *e.PreflightCached {
			out.judge(matchers.UseCachedPreflight(), rep, "on the repeat: ")
		} else {
			out.judge(matchers.BePreflighted(), rep, "on the repeat: ")
		}
	}
	if !out.Passed() {
		out.Explanation = out.explain()
	}
	return out, nil
}

// matchers are the checks of the first request, from the case's expectations.
func (c Case) matchers() []types.GomegaMatcher {
	e := c.Expect
	var ms []types.GomegaMatcher
	switch {
	case e.Result == Allowed:
		ms = append(ms, matchers.BeAllowed())
	case e.Reason != "":
		ms = append(ms, matchers.BeBlockedWith(e.Reason))
	case e.Result == Blocked:
		ms = append(ms, matchers.BeBlocked())
	}
	if e.Preflight != nil {
		if *e.Preflight {
			ms = append(ms, matchers.BePreflighted())
		} else {
			ms = append(ms, gomega.Not(matchers.BePreflighted()))
		}
	}
	if len(e.Readable) > 0 {
		ms = append(ms, matchers.LetPageRead(e.Readable...))
	}
	if len(e.Unreadable) > 0 {
		ms = append(ms, matchers.HideFromPage(e.Unreadable...))
	}
	if e.CheckCookies {
		ms = append(ms, matchers.SendCookies(e.CookiesSent...))
	}
	return ms
}

// judge records m's verdict on r: its first paragraph, without the transcript the report prints once.
func (o *Outcome) judge(m types.GomegaMatcher, r harness.Result, prefix string) {
	ok, err := m.Match(r)
	var msg string
	switch {
	case err != nil:
		msg = err.Error()
	case ok:
		return
	default:
		msg = m.FailureMessage(r)
	}
	msg, _, _ = strings.Cut(msg, "\n\n")
	o.Failures = append(o.Failures, prefix+msg)
}

// explain turns the failures into what the server would have to send.
func (o Outcome) explain() string {
	r, e := o.Result, o.Case.Expect
	var parts []string
	if why := r.Explain(); why != "" && e.Result == Allowed {
		parts = append(parts, "to allow it, "+why)
	}
	if e.Result == Blocked && r.Allowed() {
		parts = append(parts, fmt.Sprintf("Chrome allowed it because the response sent Access-Control-Allow-Origin: %q; to block %s, that header must not name it (nor be *)",
			header(r.Browser.Actual, "access-control-allow-origin"), r.PageOrigin))
	}
	if e.Reason != "" && r.Blocked() && r.Browser.CorsError != e.Reason {
		parts = append(parts, "Chrome blocked it for another reason: "+r.Explain())
	}
	if e.Preflight != nil && *e.Preflight != r.Preflighted() {
		if *e.Preflight {
			parts = append(parts, "no preflight went out: the request is simple (safelisted method and headers) or its preflight was cached")
		} else {
			parts = append(parts, "a preflight went out: the method or a header is not CORS-safelisted")
		}
	}
	if e.PreflightCached != nil && o.Repeat != nil {
		maxAge := header(r.Browser.Preflight, "access-control-max-age")
		if *e.PreflightCached && !o.Repeat.PreflightFromCache() {
			parts = append(parts, fmt.Sprintf("for Chrome to cache the preflight, its response must send Access-Control-Max-Age with a positive number of seconds (it sent %q)", maxAge))
		}
		if !*e.PreflightCached && o.Repeat.PreflightFromCache() {
			parts = append(parts, fmt.Sprintf("Chrome cached the preflight (Access-Control-Max-Age %q; none means 5 s); send Access-Control-Max-Age: 0 to make it preflight every time", maxAge))
		}
	}
	for _, h := range e.Readable {
		if _, ok := r.Page.Headers[strings.ToLower(h)]; !ok && r.Allowed() {
			parts = append(parts, fmt.Sprintf("for the page to read %s, the response must carry it and list it in Access-Control-Expose-Headers (it sent %q)", h, header(r.Browser.Actual, "access-control-expose-headers")))
		}
	}
	if e.CheckCookies {
		parts = append(parts, cookieAdvice(r, e.CookiesSent)...)
	}
	if len(parts) == 0 {
		return "the views do not tell one story; read the transcript"
	}
	return strings.Join(parts, "; ")
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
					reason = "Chrome held it back (" + strings.Join(c.Reasons, ", ") + "): a cross-site request carries only cookies with SameSite=None; Secure, over HTTPS, when third-party cookies are allowed"
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

// Report is the case's failure transcript: what was expected, what Chrome
// did, the exchange(s), and what the server would have to send.
func (o Outcome) Report() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "✗ %s (line %d)\n", o.Case.Name, o.Case.Line)
	for _, f := range o.Failures {
		sb.WriteString("  - " + f + "\n")
	}
	sb.WriteString(indent(o.Result.String()))
	if o.Repeat != nil {
		sb.WriteString("  repeat:\n" + indent(indent(o.Repeat.String())))
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

package probe

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/verdict"
)

// hit is what one key proves in one engine, from its runs with and without cookies.
type hit struct {
	class        Class
	origin       string
	severity     Severity
	cred         bool
	sent         []string
	run          *run
	result       harness.Result
	wildcardRead bool   // an uncredentialed read of Access-Control-Allow-Origin: *
	summary      string // one sentence
	limit        string // what the evidence cannot show
}

// pair is one origin's request in one engine, without (plain) and with cookies (cred).
type pair struct {
	plain, cred *run
}

// groups pairs the runs made with third-party cookies allowed (or, with
// thirdParty false, under the engines' default), in the order they were made.
func (p *Probe) groups(thirdParty bool) []pair {
	type gk struct {
		origin, path, method string
		engine               verdict.Engine
	}
	var order []gk
	byKey := map[gk]*pair{}
	for _, r := range p.runs {
		if r.thirdParty != thirdParty {
			continue
		}
		k := gk{r.origin, r.path, r.method, r.engine}
		g, ok := byKey[k]
		if !ok {
			g = &pair{}
			byKey[k] = g
			order = append(order, k)
		}
		if r.cred {
			g.cred = r
		} else {
			g.plain = r
		}
	}
	out := make([]pair, len(order))
	for i, k := range order {
		out[i] = *byKey[k]
	}
	return out
}

// first is the run's first Result, and false when it has none.
func first(r *run) (harness.Result, bool) {
	if r == nil || r.err != nil || len(r.results) == 0 {
		return harness.Result{}, false
	}
	return r.results[0], true
}

// readable reports whether the page read the answer: the browser allowed
// it, and it is not an opaque (no-cors) or opaque-redirect response.
func readable(r harness.Result) bool {
	return r.Verdict().Outcome == verdict.Allowed && r.Page.ResponseType != "opaque" && r.Page.ResponseType != "opaqueredirect"
}

// cookiesSent are the names of the cookies the actual request carried: the
// server's journal, else what the browser says it sent, else its Cookie header.
func cookiesSent(r harness.Result) []string {
	if r.Server.Recorded {
		return r.CookiesSent()
	}
	a := r.Browser.Actual
	if a == nil {
		return nil
	}
	var names []string
	for _, c := range a.CookiesSent {
		names = append(names, c.Name)
	}
	if len(names) == 0 && a.RequestHeaders["cookie"] != "" {
		for _, c := range (&http.Request{Header: http.Header{"Cookie": {a.RequestHeaders["cookie"]}}}).Cookies() {
			names = append(names, c.Name)
		}
	}
	return names
}

// answer returns the actual response's header: the browser's account, else the server's journal.
func answer(r harness.Result) (http.Header, bool) {
	if a := r.Browser.Actual; a != nil && a.Status > 0 && len(a.ResponseHeaders) > 0 {
		h := http.Header{}
		for k, v := range a.ResponseHeaders {
			for _, line := range strings.Split(v, "\n") {
				h.Add(k, line)
			}
		}
		return h, true
	}
	acts := r.Server.Actuals()
	if len(acts) > 0 && acts[len(acts)-1].Response != nil {
		return acts[len(acts)-1].Response, true
	}
	return nil, false
}

// allowOrigin is the actual answer's Access-Control-Allow-Origin, its
// values joined with ", " when there are several; ok is false when none.
func allowOrigin(r harness.Result) (string, bool) {
	h, ok := answer(r)
	if !ok {
		return "", false
	}
	vs := h.Values("Access-Control-Allow-Origin")
	if len(vs) == 0 {
		return "", false
	}
	return strings.Join(vs, ", "), true
}

// classOf is the class a read proves: wildcard for *, invalid-allow-origin
// when the engine accepted a value that is not exactly the page's origin,
// else the origin's own class.
func classOf(r harness.Result, own Class) Class {
	acao, _ := allowOrigin(r)
	switch {
	case acao == "*":
		return Wildcard
	case acao != r.PageOrigin:
		return InvalidAllowOrigin
	}
	return own
}

// invalidReasons are the browsers' reasons for a malformed or multiple Access-Control-Allow-Origin.
var invalidReasons = []verdict.Reason{verdict.MultipleAllowOriginValues, verdict.InvalidAllowOriginValue,
	verdict.PreflightMultipleAllowOriginValues, verdict.PreflightInvalidAllowOriginValue}

// executed says whether the server ran a blocked request, how corslab
// knows, and the limit of that evidence.
func executed(r harness.Result) (ran bool, how, limit string) {
	if r.Server.Recorded {
		if ran, known := r.AppRan(); known {
			return ran, "the journal shows the application ran (servers.App)", ""
		}
		return r.Answered(), "the journal shows the server answered it",
			"the handler does not mark its application with servers.App, so a middleware's answer counts as a run"
	}
	a := r.Browser.Actual
	if a != nil && a.OnWire && !a.FromCache && a.Status >= 200 && a.Status < 300 {
		return true, fmt.Sprintf("%s saw the server answer %d", r.Engine.Title(), a.Status),
			"corslab has no journal of a server it does not run: the browser saw a success status for the blocked request; whether the application ran (rather than something in front of it answering) is beyond this evidence"
	}
	return false, "", ""
}

// reflectedWithoutVary reports whether the actual answer names the page's
// own origin in Access-Control-Allow-Origin without Vary: Origin, and is
// not kept from caches (no-store).
func reflectedWithoutVary(r harness.Result) bool {
	h, ok := answer(r)
	if !ok || r.PageOrigin == "" || r.PageOrigin == "null" || !slices.Equal(h.Values("Access-Control-Allow-Origin"), []string{r.PageOrigin}) {
		return false
	}
	if harness.VariesOnOrigin(strings.Join(h.Values("Vary"), ",")) {
		return false
	}
	return !strings.Contains(strings.ToLower(h.Get("Cache-Control")), "no-store")
}

// hits judges every pair of runs made with third-party cookies allowed.
func (p *Probe) hits() []hit {
	var out []hit
	for _, g := range p.groups(true) {
		out = append(out, p.judge(g)...)
	}
	return out
}

// judge is what one pair proves.
func (p *Probe) judge(g pair) []hit {
	var out []hit
	r0, ok0 := first(g.plain)
	r1, ok1 := first(g.cred)
	any := g.plain
	if any == nil {
		any = g.cred
	}
	target := p.base + any.path
	read0, read1 := ok0 && readable(r0), ok1 && readable(r1)
	sent1 := []string(nil)
	if ok1 {
		sent1 = cookiesSent(r1)
	}
	if !any.trusted {
		switch {
		case read1 && len(sent1) > 0:
			out = append(out, hit{class: classOf(r1, any.class), origin: any.origin, severity: High, cred: true, sent: sent1,
				run: g.cred, result: r1,
				summary: fmt.Sprintf("a page on %s read %s %s with the cookie %s", any.origin, any.method, target, strings.Join(sent1, ", "))})
		case read0 || read1:
			r, rr := r0, g.plain
			if !read0 {
				r, rr = r1, g.cred
			}
			h := hit{class: classOf(r, any.class), origin: any.origin, severity: Medium, run: rr, result: r,
				summary: fmt.Sprintf("a page on %s read %s %s without cookies", any.origin, any.method, target)}
			if acao, _ := allowOrigin(r); acao == "*" {
				h.wildcardRead = true
				h.severity, h.limit = p.wildcardSeverity(r, any.path, any.method)
			}
			out = append(out, h)
		}
		if unsafe(any.method) {
			for _, c := range []struct {
				r  harness.Result
				ok bool
				rn *run
			}{{r0, ok0, g.plain}, {r1, ok1, g.cred}} {
				if !c.ok || !c.r.Blocked() {
					continue
				}
				if ran, how, limit := executed(c.r); ran {
					sent := cookiesSent(c.r)
					out = append(out, hit{class: ExecutedDespiteBlock, origin: any.origin, severity: Low, cred: len(sent) > 0, sent: sent,
						run: c.rn, result: c.r, limit: limit,
						summary: fmt.Sprintf("%s %s from %s was blocked (%s), but %s", any.method, target, any.origin, c.r.Browser.Reason, how)})
					break
				}
			}
		}
	}
	for _, c := range []struct {
		r  harness.Result
		ok bool
		rn *run
	}{{r0, ok0, g.plain}, {r1, ok1, g.cred}} {
		if c.ok && slices.Contains(invalidReasons, c.r.Browser.Reason) {
			acao, _ := allowOrigin(c.r)
			out = append(out, hit{class: InvalidAllowOrigin, origin: any.origin, severity: Low, run: c.rn, result: c.r,
				summary: fmt.Sprintf("the answer to %s %s from %s carries Access-Control-Allow-Origin %q, which %s refuses (%s): the page cannot read it",
					any.method, target, any.origin, acao, c.r.Engine.Title(), c.r.Browser.Reason)})
			break
		}
	}
	for _, c := range []struct {
		r  harness.Result
		ok bool
		rn *run
	}{{r0, ok0, g.plain}, {r1, ok1, g.cred}} {
		if c.ok && reflectedWithoutVary(c.r) {
			out = append(out, hit{class: MissingVaryOrigin, origin: any.origin, severity: Low, run: c.rn, result: c.r,
				summary: fmt.Sprintf("the answer to %s %s from %s names that origin in Access-Control-Allow-Origin without Vary: Origin", any.method, target, any.origin)})
			break
		}
	}
	return out
}

// wildcardSeverity rates an uncredentialed read of *: medium when the
// answer differs from the public one (what a client without Origin and
// cookies gets), low when it is the same; low, with the limit said, when
// the public answer is not known.
func (p *Probe) wildcardSeverity(r harness.Result, path, method string) (Severity, string) {
	b := p.baselines[baselineKey(path, method)]
	switch {
	case b == nil || !b.done && b.err == nil:
		return Low, "the public answer was not compared (only a GET or HEAD is fetched without Origin)"
	case b.err != nil:
		return Low, "the public answer could not be fetched: " + b.err.Error()
	case b.status != r.Page.Status || b.body != r.Page.ResponseText:
		return Medium, ""
	}
	return Low, ""
}

func baselineKey(path, method string) string { return strings.ToUpper(method) + " " + path }

func readAll(resp *http.Response, limit int64) (string, error) {
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	return string(b), err
}

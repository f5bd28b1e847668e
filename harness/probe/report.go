package probe

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/verdict"
)

// Finding is one hole a browser proved: the class, the attacker origin and
// request that show it, how bad it is, the engines where it holds, and the
// transcripts as evidence. Its JSON is what --json writes (docs/probe.md).
type Finding struct {
	Class  Class  `json:"class"`
	Origin string `json:"origin"`
	URL    string `json:"url"`
	Method string `json:"method"`
	// Severity is the worst the engines showed (third-party cookies allowed).
	Severity Severity `json:"severity"`
	// Credentialed is true when the page read the answer with the cookies sent.
	Credentialed bool             `json:"credentialed"`
	Engines      []verdict.Engine `json:"engines"`
	// Summary says what happened, in one sentence.
	Summary string `json:"summary"`
	// Evidence is one transcript per engine where the finding holds, and for
	// a credentialed read the same request under the engine's default cookie setting.
	Evidence []Evidence `json:"evidence"`
	// EngineDefault says, for a credentialed read, what held under each
	// engine's default cookie setting (third-party cookies blocked or partitioned).
	EngineDefault []DefaultVerdict `json:"engine_default,omitempty"`
	// Also are the other attacker origins the same hole let in, folded into this finding.
	Also []Also `json:"also,omitempty"`
	// Limit says what the evidence cannot show, if anything.
	Limit string `json:"limit,omitempty"`

	path  string
	owned bool
}

// Also is an attacker origin, and the class it stands for, that a finding's hole let in too.
type Also struct {
	Origin string `json:"origin"`
	Class  Class  `json:"class"`
}

// Evidence is one engine's transcript of a finding.
type Evidence struct {
	Engine verdict.Engine `json:"engine"`
	// ThirdPartyCookies is true for the worst case (third-party cookies
	// allowed) and false under the engine's default setting.
	ThirdPartyCookies bool     `json:"third_party_cookies"`
	Severity          Severity `json:"severity,omitempty"` // "" when the page read nothing
	// Status is the answer's status as the browser saw it; 0 when none arrived.
	Status      int      `json:"status,omitempty"`
	CookiesSent []string `json:"cookies_sent"`
	Transcript  string   `json:"transcript"`
}

// DefaultVerdict is what a credentialed read became under an engine's default cookie setting.
type DefaultVerdict struct {
	Engine   verdict.Engine `json:"engine"`
	Severity Severity       `json:"severity,omitempty"` // "" when the page read nothing
	Note     string         `json:"note"`
}

// Report is what a probe found, and what it tried.
type Report struct {
	Target  string
	Trusted string
	Engines []verdict.Engine
	Paths   []string
	Methods []string
	Cookies []string // the cookies' names
	// Attackers are the attacker origins this shard tried (all of them without shards).
	Attackers []Attacker
	Skipped   []Skip
	Findings  []Finding
	// Trust says, per request, what the trusted origin got.
	Trust []string
	// Notes are what is worth knowing but not a finding: reflections no
	// browser lets an attacker read, cookies the browsers held back, redirects.
	Notes []string
	// Errors are the scenarios that could not run.
	Errors []string
	// Shard is "i/n" when the probe ran one shard.
	Shard string

	cases   []harness.Scenario
	omitted []string
	api     string
}

// Report judges what the probe ran: every finding a browser proved, folded
// so that one hole is one finding, with the notes and errors.
func (p *Probe) Report() *Report {
	p.mu.Lock()
	defer p.mu.Unlock()
	rep := &Report{Target: p.base, Trusted: p.trusted, Engines: p.Engines(), Paths: slices.Clone(p.paths),
		Methods: p.methods, Cookies: cookieNames(p.cfg.Cookies), Skipped: p.skipped, api: p.base}
	if p.cfg.Shards > 1 {
		rep.Shard = fmt.Sprintf("%d/%d", p.cfg.Shard, p.cfg.Shards)
	}
	for _, a := range p.attackers {
		if slices.ContainsFunc(p.runs, func(r *run) bool { return r.origin == a.Origin && r.owned }) {
			rep.Attackers = append(rep.Attackers, a)
		}
	}
	for _, r := range p.runs {
		if r.err != nil {
			rep.Errors = append(rep.Errors, r.err.Error())
		}
	}
	rep.Findings = p.findings()
	rep.Trust = p.trust()
	rep.Notes = append(slices.Clone(p.notes), p.remarks(rep.Findings)...)
	rep.cases, rep.omitted = p.expectations()
	return rep
}

// findings merges the hits per class, origin and request, adds what held
// under the engines' default cookies, keeps the chosen classes, folds the
// findings one hole explains into it, and drops those another shard reports.
func (p *Probe) findings() []Finding {
	type fk struct {
		class                Class
		origin, path, method string
	}
	var order []fk
	byKey := map[fk]*Finding{}
	best := map[fk]map[verdict.Engine]hit{}
	for _, h := range p.hits() {
		k := fk{h.class, h.origin, h.run.path, h.run.method}
		if _, ok := byKey[k]; !ok {
			byKey[k] = &Finding{Class: h.class, Origin: h.origin, URL: p.base + h.run.path, Method: h.run.method, path: h.run.path, owned: h.run.owned}
			best[k] = map[verdict.Engine]hit{}
			order = append(order, k)
		}
		if b, ok := best[k][h.run.engine]; !ok || h.severity.Rank() > b.severity.Rank() {
			best[k][h.run.engine] = h
		}
	}
	defaults := p.defaults()
	var out []*Finding
	for _, k := range order {
		f := byKey[k]
		if !slices.Contains(p.classes, f.Class) {
			continue
		}
		for _, e := range p.Engines() {
			h, ok := best[k][e]
			if !ok {
				continue
			}
			f.Engines = append(f.Engines, e)
			if h.severity.Rank() > f.Severity.Rank() {
				f.Severity, f.Summary, f.Limit = h.severity, h.summary, h.limit
			}
			f.Credentialed = f.Credentialed || h.cred
			f.Evidence = append(f.Evidence, Evidence{Engine: e, ThirdPartyCookies: true, Severity: h.severity,
				Status: status(h.result), CookiesSent: nonNil(h.sent), Transcript: h.result.String()})
			if h.severity == High {
				if d, ok := defaults[dk{h.run.key, e}]; ok {
					f.EngineDefault = append(f.EngineDefault, d.verdict)
					f.Evidence = append(f.Evidence, d.evidence)
				}
			}
		}
		var per []string
		for _, e := range f.Evidence {
			if e.ThirdPartyCookies && e.Severity != f.Severity {
				per = append(per, fmt.Sprintf("in %s it is %s", e.Engine.Title(), e.Severity))
			}
		}
		if len(per) > 0 {
			f.Summary += " (" + strings.Join(per, "; ") + ")"
		}
		if len(f.EngineDefault) > 0 {
			f.Summary += "; " + defaultSummary(f.EngineDefault)
		}
		out = append(out, f)
	}
	out = p.fold(out)
	var kept []Finding
	for _, f := range out {
		if f.owned {
			kept = append(kept, *f)
		}
	}
	return kept
}

func status(r harness.Result) int {
	if r.Browser.Actual == nil {
		return 0
	}
	return r.Browser.Actual.Status
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// dk names a credentialed key in one engine.
type dk struct {
	k key
	e verdict.Engine
}

type defaultRun struct {
	verdict  DefaultVerdict
	evidence Evidence
}

// defaults are the credentialed reads again under the engines' default cookie setting.
func (p *Probe) defaults() map[dk]defaultRun {
	out := map[dk]defaultRun{}
	for _, g := range p.groups(false) {
		r, ok := first(g.cred)
		if !ok {
			continue
		}
		sent := cookiesSent(r)
		d := DefaultVerdict{Engine: r.Engine}
		switch {
		case readable(r) && len(sent) > 0:
			d.Severity, d.Note = High, "read with the cookie "+strings.Join(sent, ", ")+": it holds under the default too"
		case readable(r):
			d.Severity, d.Note = Medium, "read without the cookie: "+heldBack(r, "")
		default:
			d.Note = "not read: " + r.Verdict().String()
		}
		out[dk{g.cred.key, r.Engine}] = defaultRun{d, Evidence{Engine: r.Engine, ThirdPartyCookies: false, Severity: d.Severity,
			Status: status(r), CookiesSent: nonNil(sent), Transcript: r.String()}}
	}
	return out
}

func defaultSummary(ds []DefaultVerdict) string {
	var parts []string
	for _, d := range ds {
		sev := string(d.Severity)
		if sev == "" {
			sev = "none"
		}
		parts = append(parts, fmt.Sprintf("under %s's default cookie setting: %s (%s)", d.Engine.Title(), sev, d.Note))
	}
	return strings.Join(parts, "; ")
}

// heldBack says why the browser sent none of the cookies: the reasons it gave, or that it gave none.
func heldBack(r harness.Result, prefix string) string {
	var parts []string
	if a := r.Browser.Actual; a != nil {
		for _, c := range a.CookiesBlocked {
			parts = append(parts, c.Name+" ("+strings.Join(c.Reasons, ", ")+")")
		}
	}
	if len(parts) == 0 && r.Engine == verdict.Firefox {
		return prefix + "Firefox sent no cookie and names no reason (by default it keeps a cross-site page's cookies in a jar of that site: the cookie stored first-party is not in it)"
	}
	if len(parts) == 0 {
		return prefix + r.Engine.Title() + " sent no cookie and named no reason (did it refuse to store it?)"
	}
	return prefix + r.Engine.Title() + " held back " + strings.Join(parts, "; ")
}

// fold folds the findings one hole explains into the finding of that
// hole, so one misconfiguration is one finding. On each request, an
// origin's read is folded into the read of the class whose naive check
// would also have let that origin in (see accepts), the widest first: any
// origin (reflected-origin) explains every read, a suffix check explains
// the subdomains and look-alikes that end with the domain, a substring
// check the prefixes and subdomains that contain the host. An answer's
// fault (wildcard, invalid-allow-origin, executed-despite-block,
// missing-vary-origin) is folded into its finding from the trusted origin,
// else from the arbitrary one, else the first. A finding is folded only
// into one that is no less severe and holds in every engine it holds in.
func (p *Probe) fold(fs []*Finding) []*Finding {
	arbitrary := ""
	for _, a := range p.attackers {
		if a.Class == ReflectedOrigin {
			arbitrary = a.Origin
		}
	}
	covers := func(a, b *Finding) bool {
		if a == b || a.path != b.path || a.Method != b.Method || b.Severity.Rank() > a.Severity.Rank() {
			return false
		}
		for _, e := range b.Engines {
			if !slices.Contains(a.Engines, e) {
				return false
			}
		}
		return true
	}
	// The widest explanation first: the origin findings that accept the most others.
	scope := map[*Finding]int{}
	for _, a := range fs {
		if !a.Class.originClass() {
			continue
		}
		for _, b := range fs {
			if b.Class.originClass() && accepts(a.Class, p.trusted, b.Origin) {
				scope[a]++
			}
		}
	}
	order := slices.Clone(fs)
	slices.SortStableFunc(order, func(a, b *Finding) int { return scope[b] - scope[a] })
	folded := map[*Finding]bool{}
	into := func(f, a *Finding) {
		folded[f] = true
		a.Also = append(a.Also, Also{f.Origin, f.Class})
	}
	for _, f := range order {
		if !f.Class.originClass() {
			continue
		}
		for _, a := range order {
			if !folded[a] && a.Class.originClass() && covers(a, f) && (a.Class == f.Class || accepts(a.Class, p.trusted, f.Origin)) &&
				(scope[a] > scope[f] || scope[a] == scope[f] && slices.Index(fs, a) < slices.Index(fs, f)) {
				into(f, a)
				break
			}
		}
	}
	for _, f := range fs {
		if f.Class.originClass() {
			continue
		}
		var candidates []*Finding
		for _, o := range []string{p.trusted, arbitrary} {
			for _, a := range fs {
				if a.Class == f.Class && a.Origin == o {
					candidates = append(candidates, a)
				}
			}
		}
		for _, a := range fs {
			if a.Class == f.Class {
				candidates = append(candidates, a)
			}
		}
		for _, a := range candidates {
			if a == f {
				break // f comes first: others fold into it
			}
			if !folded[a] && covers(a, f) {
				into(f, a)
				break
			}
		}
	}
	var out []*Finding
	for _, f := range fs {
		if !folded[f] {
			out = append(out, f)
		}
	}
	slices.SortStableFunc(out, func(a, b *Finding) int { return b.Severity.Rank() - a.Severity.Rank() })
	return out
}

// accepts reports whether the naive origin check a class stands for, made
// for the trusted origin, would let origin in: reflected-origin any origin;
// suffix-match any host ending in the registrable domain; substring-match
// any origin containing the host; prefix-match any origin starting with
// the trusted one; unescaped-dot a regular expression of the trusted origin
// with its dots unescaped; any-subdomain any subdomain of the registrable
// domain, same scheme; http-origin-trusted the same host over http. The
// classes whose origins are their own (null, third-party hosts) accept
// only their own kind.
func accepts(c Class, trusted, origin string) bool {
	t, err1 := url.Parse(trusted)
	o, err2 := url.Parse(origin)
	if err1 != nil || err2 != nil || origin == "null" {
		return c == ReflectedOrigin || c == NullOrigin && origin == "null"
	}
	site, _ := registrable(t.Hostname())
	switch c {
	case ReflectedOrigin:
		return true
	case SuffixMatch:
		return site != "" && strings.HasSuffix(o.Hostname(), site)
	case SubstringMatch:
		return strings.Contains(origin, t.Hostname())
	case PrefixMatch:
		return strings.HasPrefix(origin, trusted)
	case UnescapedDot:
		re, err := regexp.Compile("^" + strings.ReplaceAll(regexp.QuoteMeta(trusted), `\.`, ".") + "$")
		return err == nil && re.MatchString(origin)
	case AnySubdomain:
		return site != "" && o.Scheme == t.Scheme && strings.HasSuffix(o.Hostname(), "."+site)
	case HTTPOriginTrusted:
		return o.Scheme == "http" && o.Host == t.Host
	case ThirdPartyOrigin:
		return slices.Contains(thirdPartyHosts, origin)
	}
	return false
}

// trust says what the trusted origin got on each request, one line per engine.
func (p *Probe) trust() []string {
	var out []string
	for _, r := range p.runs {
		if !r.trusted || !r.thirdParty || !r.owned {
			continue
		}
		res, ok := first(r)
		if !ok {
			continue
		}
		with := ""
		if r.cred {
			with = " with cookies"
			if sent := cookiesSent(res); len(sent) > 0 {
				with += " (sent: " + strings.Join(sent, ", ") + ")"
			} else {
				with += " (" + heldBack(res, "none sent: ") + ")"
			}
		}
		v := oneLine(res.Verdict().String())
		if readable(res) {
			v += fmt.Sprintf(" (status %d)", res.Page.Status)
		}
		line := fmt.Sprintf("%s %s%s from %s [%s]: %s", r.method, r.path, with, r.origin, r.engine, v)
		if len(r.results) > 1 {
			line += fmt.Sprintf("; sent again: %s", plural(r.results[1].PreflightFromCache(), "the preflight came from the cache", "no cached preflight"))
		}
		out = append(out, line)
	}
	return out
}

func plural(ok bool, yes, no string) string {
	if ok {
		return yes
	}
	return no
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// remarks are the notes that are not findings: the trusted origin refused,
// reflections no browser lets an attacker read, cookies held back, classes
// not tried, blocked safe requests the server still ran.
func (p *Probe) remarks(fs []Finding) []string {
	var out []string
	add := func(s string) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, r := range p.runs {
		res, ok := first(r)
		if !r.trusted || !r.thirdParty || !ok || readable(res) || redirected(res) {
			continue // a redirect has a note of its own
		}
		add(fmt.Sprintf("the trusted origin %s could not read %s %s in %s (%s): is --as the origin your policy trusts?",
			r.origin, r.method, r.path, r.engine.Title(), oneLine(res.Verdict().String())))
	}
	reflections, safeRan := 0, 0
	var safeMethods []string
	for _, g := range p.groups(true) {
		for _, rn := range []*run{g.plain, g.cred} {
			res, ok := first(rn)
			if !ok || rn.trusted || !rn.owned {
				continue
			}
			acao, has := allowOrigin(res)
			switch {
			case has && !readable(res) && (acao == rn.origin || acao == "*") && res.Browser.Reason != "":
				if reflections < 5 {
					add(fmt.Sprintf("%s %s from %s: the answer names %q in Access-Control-Allow-Origin, but %s did not let the page read it (%s): a header scanner would flag it; no browser lets an attacker read it here, so it is not a finding",
						rn.method, rn.path, rn.origin, acao, res.Engine.Title(), res.Browser.Reason))
				}
				reflections++
			case rn.cred && readable(res) && len(cookiesSent(res)) == 0:
				add(fmt.Sprintf("%s %s from %s with credentials was read, but without the cookie: %s (docs/probe.md has what each engine sends)",
					rn.method, rn.path, rn.origin, heldBack(res, "")))
			case !unsafe(rn.method) && res.Blocked() && !readable(res):
				if ran, _, _ := executed(res); ran {
					safeRan++
					if !slices.Contains(safeMethods, rn.method) {
						safeMethods = append(safeMethods, rn.method)
					}
				}
			}
		}
	}
	if reflections > 5 {
		add(fmt.Sprintf("… and %d more answers that name the attacker's origin which no browser let it read", reflections-5))
	}
	if safeRan > 0 {
		add(fmt.Sprintf("%d blocked %s requests from attacker origins still reached the server and were answered: CORS sends a simple GET or HEAD before it checks the answer, by design, so these must change nothing; executed-despite-block is about the unsafe methods you name with --method",
			safeRan, strings.Join(safeMethods, "/")))
	}
	if slices.Contains(p.classes, ExecutedDespiteBlock) && !slices.ContainsFunc(p.methods, unsafe) {
		add("executed-despite-block was not tried: no unsafe method was named (add --method POST, PUT or DELETE to send one)")
	}
	for _, s := range p.skipped {
		add(fmt.Sprintf("%s was not tried: %s", s.Class, s.Why))
	}
	return out
}

// redirected reports whether the answer was a redirect (which the browser did not follow).
func redirected(r harness.Result) bool {
	return r.Browser.Actual != nil && r.Browser.Actual.Status >= 300 && r.Browser.Actual.Status <= 399
}

// Summary is the report's last line: "probe: N origins tried on P paths, F findings (H high, M medium, L low)".
func (r *Report) Summary() string {
	n := map[Severity]int{}
	for _, f := range r.Findings {
		n[f.Severity]++
	}
	return fmt.Sprintf("probe: %d origins tried on %d paths, %d findings (%d high, %d medium, %d low)",
		len(r.Attackers), len(r.Paths), len(r.Findings), n[High], n[Medium], n[Low])
}

// Reaches reports whether a finding is at least as bad as failOn ("none" never is).
func (r *Report) Reaches(failOn Severity) bool {
	if failOn.Rank() == 0 {
		return false
	}
	return slices.ContainsFunc(r.Findings, func(f Finding) bool { return f.Severity.Rank() >= failOn.Rank() })
}

// WriteText writes the human report, ending with the Summary line.
func (r *Report) WriteText(w io.Writer) {
	fmt.Fprintf(w, "probe %s as an attacker of %s", r.Target, r.Trusted)
	if r.Shard != "" {
		fmt.Fprintf(w, " (shard %s)", r.Shard)
	}
	fmt.Fprintf(w, "\n  engines %s; paths %s; methods %s; ", engineList(r.Engines), strings.Join(r.Paths, " "), strings.Join(r.Methods, " "))
	if len(r.Cookies) > 0 {
		fmt.Fprintf(w, "cookies %s, third-party cookies allowed (the worst case)\n", strings.Join(r.Cookies, ", "))
	} else {
		fmt.Fprintf(w, "no cookies (--cookie to prove credentialed reads)\n")
	}
	var origins []string
	for _, a := range r.Attackers {
		origins = append(origins, a.Origin)
	}
	fmt.Fprintf(w, "  %d attacker origins: %s\n\n", len(r.Attackers), strings.Join(origins, " "))
	if len(r.Trust) > 0 {
		fmt.Fprintln(w, "the trusted origin:")
		for _, t := range r.Trust {
			fmt.Fprintln(w, "  "+t)
		}
		fmt.Fprintln(w)
	}
	for _, f := range r.Findings {
		fmt.Fprintf(w, "%s %s: %s %s from %s  [%s]\n", strings.ToUpper(string(f.Severity)), f.Class, f.Method, f.URL, f.Origin, engineList(f.Engines))
		fmt.Fprintf(w, "  %s\n", f.Summary)
		fmt.Fprintf(w, "  means: %s\n", f.Class.Info().Means)
		fmt.Fprintf(w, "  fix: %s\n", f.Class.Info().Fix)
		if len(f.Also) > 0 {
			fmt.Fprintf(w, "  the same hole let in: %s\n", alsoList(f.Also))
		}
		if f.Limit != "" {
			fmt.Fprintf(w, "  limit of the evidence: %s\n", f.Limit)
		}
		for _, e := range f.Evidence {
			switch {
			case !e.ThirdPartyCookies:
				fmt.Fprintf(w, "  evidence (%s's default cookie setting):\n", e.Engine.Title())
			case len(r.Cookies) > 0:
				fmt.Fprintf(w, "  evidence (%s, third-party cookies allowed):\n", e.Engine.Title())
			default:
				fmt.Fprintf(w, "  evidence (%s):\n", e.Engine.Title())
			}
			fmt.Fprint(w, indent(e.Transcript, "    "))
		}
		fmt.Fprintln(w)
	}
	if len(r.Notes) > 0 {
		fmt.Fprintln(w, "not findings:")
		for _, n := range r.Notes {
			fmt.Fprintln(w, "  - "+n)
		}
		fmt.Fprintln(w)
	}
	if len(r.Errors) > 0 {
		fmt.Fprintf(w, "%d scenarios could not run:\n", len(r.Errors))
		for _, e := range r.Errors {
			fmt.Fprintln(w, "  - "+e)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, r.Summary())
}

func alsoList(as []Also) string {
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = fmt.Sprintf("%s (%s)", a.Origin, a.Class)
	}
	return strings.Join(parts, ", ")
}

func indent(s, by string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return by + strings.Join(lines, "\n"+by) + "\n"
}

// JSON is the findings as the JSON array --json writes (never null).
func (r *Report) JSON() ([]byte, error) {
	fs := r.Findings
	if fs == nil {
		fs = []Finding{}
	}
	b, err := json.MarshalIndent(fs, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("probe: encode the findings: %w", err)
	}
	return append(b, '\n'), nil
}

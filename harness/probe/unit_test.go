package probe

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/verdict"
)

func TestCheckNamesTheFieldAndTheValue(t *testing.T) {
	ok := Config{Trusted: "https://app.example.com", URL: "http://127.0.0.1:8080/api/me"}
	if err := ok.Check(); err != nil {
		t.Fatalf("a good config: %v", err)
	}
	for _, tc := range []struct {
		name  string
		edit  func(*Config)
		field string
	}{
		{"no trusted origin", func(c *Config) { c.Trusted = "" }, "Trusted"},
		{"a trusted origin with a path", func(c *Config) { c.Trusted = "https://app.example.com/login" }, "Trusted"},
		{"a trusted origin without a scheme", func(c *Config) { c.Trusted = "app.example.com" }, "Trusted"},
		{"the target's own origin", func(c *Config) { c.Trusted = "http://127.0.0.1:8080" }, "Trusted"},
		{"no URL", func(c *Config) { c.URL = "" }, "URL"},
		{"a relative URL", func(c *Config) { c.URL = "/api/me" }, "URL"},
		{"an ftp URL", func(c *Config) { c.URL = "ftp://127.0.0.1/x" }, "URL"},
		{"a remote host", func(c *Config) { c.URL = "https://api.example.com/me" }, "URL"},
		{"a path without a slash", func(c *Config) { c.Paths = []string{"api/me"} }, "Paths"},
		{"a path with a fragment", func(c *Config) { c.Paths = []string{"/a#b"} }, "Paths"},
		{"a method with a space", func(c *Config) { c.Methods = []string{"GE T"} }, "Methods"},
		{"a forbidden method", func(c *Config) { c.Methods = []string{"TRACE"} }, "Methods"},
		{"a cookie with LF", func(c *Config) { c.Cookies = []string{"sid=1\nSet-Cookie: x=2"} }, "Cookies"},
		{"a cookie with CR", func(c *Config) { c.Cookies = []string{"sid=1\r"} }, "Cookies"},
		{"not a cookie", func(c *Config) { c.Cookies = []string{"=1"} }, "Cookies"},
		{"SameSite=None without Secure", func(c *Config) { c.Cookies = []string{"sid=1; SameSite=None"} }, "Cookies"},
		{"an unknown class", func(c *Config) { c.Classes = []Class{"reflected"} }, "Classes"},
		{"a negative rate", func(c *Config) { c.Rate = -1 }, "Rate"},
		{"a shard past the end", func(c *Config) { c.Shard, c.Shards = 3, 2 }, "Shard"},
	} {
		c := ok
		tc.edit(&c)
		err := c.Check()
		var ie *InputError
		if !errors.As(err, &ie) || ie.Field != tc.field {
			t.Errorf("%s: got %v, want an InputError about %s", tc.name, err, tc.field)
		}
	}
	remote := ok
	remote.URL, remote.AllowRemote = "https://api.example.com/me", true
	if err := remote.Check(); err != nil || !remote.Remote() {
		t.Errorf("a remote host with AllowRemote: %v, remote %v", err, remote.Remote())
	}
	if ok.Remote() {
		t.Error("127.0.0.1 is not remote")
	}
}

func TestAcceptsModelsTheNaiveChecks(t *testing.T) {
	const trusted = "https://app.example.com"
	for _, tc := range []struct {
		class  Class
		origin string
		want   bool
	}{
		{ReflectedOrigin, "https://evil.test", true},
		{ReflectedOrigin, "null", true},
		{SuffixMatch, "https://evilexample.com", true},
		{SuffixMatch, "https://evil.app.example.com", true},
		{SuffixMatch, "https://app.example.com.evil.test", false},
		{SubstringMatch, "https://app.example.com.evil.test", true},
		{SubstringMatch, "https://evilexample.com", false},
		{PrefixMatch, "https://app.example.com.evil.test", true},
		{PrefixMatch, "https://evilapp.example.com.evil.test", false},
		{UnescapedDot, "https://appxexample.com", true},
		{UnescapedDot, "https://evilexample.com", false},
		{AnySubdomain, "https://evil.example.com", true},
		{AnySubdomain, "http://evil.example.com", false},
		{AnySubdomain, "https://evilexample.com", false},
		{HTTPOriginTrusted, "http://app.example.com", true},
		{HTTPOriginTrusted, "http://evil.example.com", false},
		{NullOrigin, "null", true},
		{NullOrigin, "https://evil.test", false},
		{ThirdPartyOrigin, "https://codepen.io", true},
		{ThirdPartyOrigin, "https://evil.test", false},
	} {
		if got := accepts(tc.class, trusted, tc.origin); got != tc.want {
			t.Errorf("accepts(%s, %s) = %v, want %v", tc.class, tc.origin, got, tc.want)
		}
	}
}

// read is a Result whose page read the answer, which named acao.
func read(origin, acao string, cookies ...string) harness.Result {
	r := harness.Result{Engine: verdict.Chromium, PageOrigin: origin,
		Page:    harness.PageView{Event: "load", Status: 200, ResponseText: "secret", ResponseType: "cors"},
		Browser: harness.BrowserView{Actual: &harness.Exchange{Status: 200, Finished: true, OnWire: true, ResponseHeaders: map[string]string{}}}}
	if acao != "" {
		r.Browser.Actual.ResponseHeaders["access-control-allow-origin"] = acao
	}
	for _, c := range cookies {
		r.Browser.Actual.CookiesSent = append(r.Browser.Actual.CookiesSent, harness.Cookie{Name: c})
	}
	return r
}

// blocked is a Result the browser blocked for reason, after the server answered status.
func blocked(origin string, reason verdict.Reason, status int, headers map[string]string) harness.Result {
	return harness.Result{Engine: verdict.Chromium, PageOrigin: origin,
		Page:    harness.PageView{Event: "error"},
		Browser: harness.BrowserView{Reason: reason, Actual: &harness.Exchange{Status: status, Finished: true, Failed: true, OnWire: true, ResponseHeaders: headers}}}
}

func judged(t *testing.T, method string, trusted bool, plain, cred *harness.Result) []hit {
	t.Helper()
	p := &Probe{base: "http://127.0.0.1:8080", baselines: map[string]*baseline{}}
	k := key{origin: "https://evil.test", class: ReflectedOrigin, path: "/me", method: method, trusted: trusted}
	var g pair
	if plain != nil {
		g.plain = &run{key: k, engine: verdict.Chromium, thirdParty: true, results: []harness.Result{*plain}}
	}
	if cred != nil {
		kc := k
		kc.cred = true
		g.cred = &run{key: kc, engine: verdict.Chromium, thirdParty: true, results: []harness.Result{*cred}}
	}
	return p.judge(g)
}

func classes(hs []hit) []string {
	var out []string
	for _, h := range hs {
		out = append(out, string(h.class)+"/"+string(h.severity))
	}
	return out
}

func TestJudgeRatesWhatThePageRead(t *testing.T) {
	origin := "https://evil.test"
	cred := read(origin, origin, "sid")
	plain := read(origin, origin)
	plain.Browser.Actual.ResponseHeaders["vary"] = "Origin"
	cred.Browser.Actual.ResponseHeaders["vary"] = "Origin"
	if got := classes(judged(t, "GET", false, &plain, &cred)); !slices.Equal(got, []string{"reflected-origin/high"}) {
		t.Errorf("a credentialed read with the cookie sent: %v", got)
	}
	noCookie := read(origin, origin)
	noCookie.Browser.Actual.ResponseHeaders["vary"] = "Origin"
	if got := classes(judged(t, "GET", false, &plain, &noCookie)); !slices.Equal(got, []string{"reflected-origin/medium"}) {
		t.Errorf("a credentialed read whose cookie was held back: %v", got)
	}
	star := read(origin, "*")
	if got := classes(judged(t, "GET", false, &star, nil)); !slices.Equal(got, []string{"wildcard/low"}) {
		t.Errorf("a read of * with no public answer to compare: %v", got)
	}
	if got := classes(judged(t, "GET", false, &plain, nil)); !slices.Equal(got, []string{"reflected-origin/medium"}) {
		t.Errorf("an uncredentialed read of a reflected origin: %v", got)
	}
	noVary := read(origin, origin)
	if got := classes(judged(t, "GET", false, &noVary, nil)); !slices.Equal(got, []string{"reflected-origin/medium", "missing-vary-origin/low"}) {
		t.Errorf("a reflection without Vary: %v", got)
	}
	noStore := read(origin, origin)
	noStore.Browser.Actual.ResponseHeaders["cache-control"] = "no-store"
	if got := classes(judged(t, "GET", false, &noStore, nil)); !slices.Equal(got, []string{"reflected-origin/medium"}) {
		t.Errorf("no-store keeps caches out: %v", got)
	}
	refused := blocked(origin, verdict.MissingAllowOriginHeader, 204, map[string]string{})
	if got := classes(judged(t, "GET", false, &refused, nil)); len(got) != 0 {
		t.Errorf("a blocked GET that ran is by design, not a finding: %v", got)
	}
	if got := classes(judged(t, "POST", false, &refused, nil)); !slices.Equal(got, []string{"executed-despite-block/low"}) {
		t.Errorf("a blocked POST the server answered 204: %v", got)
	}
	refused403 := blocked(origin, verdict.MissingAllowOriginHeader, 403, map[string]string{})
	if got := classes(judged(t, "POST", false, &refused403, nil)); len(got) != 0 {
		t.Errorf("a blocked POST answered 403 is no evidence of a run: %v", got)
	}
	twice := blocked("https://app.example.com", verdict.MultipleAllowOriginValues, 200,
		map[string]string{"access-control-allow-origin": "https://app.example.com\nhttps://app.example.com"})
	if got := classes(judged(t, "GET", true, &twice, nil)); !slices.Equal(got, []string{"invalid-allow-origin/low"}) {
		t.Errorf("the trusted origin refused two values: %v", got)
	}
	reflectedBlocked := blocked(origin, verdict.MethodDisallowedByPreflightResponse, 0, nil)
	reflectedBlocked.Browser.Preflight = &harness.Exchange{Status: 204, Finished: true, OnWire: true, ResponseHeaders: map[string]string{"access-control-allow-origin": origin}}
	reflectedBlocked.Browser.Actual.OnWire = false
	if got := classes(judged(t, "PUT", false, &reflectedBlocked, nil)); len(got) != 0 {
		t.Errorf("an answer that names the attacker but was not read: %v", got)
	}
}

func TestWildcardSeverityComparesThePublicAnswer(t *testing.T) {
	p := &Probe{base: "http://127.0.0.1:8080", baselines: map[string]*baseline{
		baselineKey("/same", "GET"):  {path: "/same", method: "GET", status: 200, body: "secret", done: true},
		baselineKey("/other", "GET"): {path: "/other", method: "GET", status: 200, body: "public", done: true},
	}}
	r := read("https://evil.test", "*")
	if s, _ := p.wildcardSeverity(r, "/same", "GET"); s != Low {
		t.Errorf("the public answer itself: %s", s)
	}
	if s, _ := p.wildcardSeverity(r, "/other", "GET"); s != Medium {
		t.Errorf("an answer that differs from the public one: %s", s)
	}
}

func finding(class Class, origin string, sev Severity) *Finding {
	return &Finding{Class: class, Origin: origin, Method: "GET", path: "/me", URL: "http://127.0.0.1:8080/me",
		Severity: sev, Engines: []verdict.Engine{verdict.Chromium}, owned: true}
}

func TestFoldMakesOneHoleOneFinding(t *testing.T) {
	p := &Probe{trusted: "https://app.example.com", attackers: []Attacker{{"https://evil.test", ReflectedOrigin}}}
	fs := p.fold([]*Finding{
		finding(AnySubdomain, "https://evil.example.com", High),
		finding(SuffixMatch, "https://evilexample.com", High),
		finding(UnescapedDot, "https://appxexample.com", High),
		finding(HTTPOriginTrusted, "http://app.example.com", High),
		finding(PrefixMatch, "https://app.example.com.evil.test", High),
	})
	var got []string
	for _, f := range fs {
		got = append(got, string(f.Class))
	}
	if !slices.Equal(got, []string{"suffix-match", "prefix-match"}) {
		t.Fatalf("got %v", got)
	}
	if len(fs[0].Also) != 3 {
		t.Errorf("suffix-match folds the subdomain, the look-alike and the http twin: %v", fs[0].Also)
	}
	// A worse finding is never folded into a milder one.
	fs = p.fold([]*Finding{finding(SuffixMatch, "https://evilexample.com", Medium), finding(AnySubdomain, "https://evil.example.com", High)})
	if len(fs) != 2 || fs[0].Severity != High {
		t.Errorf("got %v", fs)
	}
	// Any origin explains every read; the answer's faults fold into the trusted origin's.
	fs = p.fold([]*Finding{
		finding(ReflectedOrigin, "https://evil.test", High), finding(NullOrigin, "null", High), finding(ThirdPartyOrigin, "https://codepen.io", Medium),
		finding(MissingVaryOrigin, "https://app.example.com", Low), finding(MissingVaryOrigin, "https://evil.test", Low),
	})
	if len(fs) != 2 || fs[0].Class != ReflectedOrigin || len(fs[0].Also) != 2 || fs[1].Origin != "https://app.example.com" || len(fs[1].Also) != 1 {
		t.Errorf("got %+v", fs)
	}
}

func TestSummaryAndFailOn(t *testing.T) {
	r := &Report{Attackers: make([]Attacker, 19), Paths: []string{"/me"},
		Findings: []Finding{{Severity: High}, {Severity: Low}, {Severity: Low}}}
	if got, want := r.Summary(), "probe: 19 origins tried on 1 paths, 3 findings (1 high, 0 medium, 2 low)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	for sev, want := range map[string]bool{"low": true, "medium": true, "high": true, "none": false} {
		s, err := ParseFailOn(sev)
		if err != nil || r.Reaches(s) != want {
			t.Errorf("--fail-on %s: %v, %v", sev, r.Reaches(s), err)
		}
	}
	r.Findings = r.Findings[1:]
	if s, _ := ParseFailOn("medium"); r.Reaches(s) {
		t.Error("low findings reach --fail-on medium")
	}
	if _, err := ParseFailOn("critical"); err == nil {
		t.Error("critical accepted")
	}
}

func TestJSONAndSARIF(t *testing.T) {
	f := finding(SuffixMatch, "https://evilexample.com", High)
	f.Credentialed, f.Summary = true, "a page on https://evilexample.com read GET http://127.0.0.1:8080/me with the cookie sid"
	f.Evidence = []Evidence{{Engine: verdict.Chromium, ThirdPartyCookies: true, Severity: High, Status: 200, CookiesSent: []string{"sid"}, Transcript: "[chromium] GET …\n"}}
	f.Also = []Also{{"https://evil.example.com", AnySubdomain}}
	r := &Report{Target: "http://127.0.0.1:8080", Findings: []Finding{*f}}
	b, err := r.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var doc []map[string]any
	if err := json.Unmarshal(b, &doc); err != nil || len(doc) != 1 {
		t.Fatalf("%v\n%s", err, b)
	}
	for _, k := range []string{"class", "origin", "url", "method", "severity", "credentialed", "engines", "evidence"} {
		if _, ok := doc[0][k]; !ok {
			t.Errorf("the JSON lacks %q: %s", k, b)
		}
	}
	empty, _ := (&Report{}).JSON()
	if strings.TrimSpace(string(empty)) != "[]" {
		t.Errorf("no findings: %s", empty)
	}
	s, err := r.SARIF()
	if err != nil {
		t.Fatal(err)
	}
	log, err := sarif.FromBytes(s)
	if err != nil {
		t.Fatal(err)
	}
	if err := log.Validate(); err != nil {
		t.Fatal(err)
	}
	run := log.Runs[0]
	if len(run.Tool.Driver.Rules) != len(Classes) || len(run.Results) != 1 || *run.Results[0].RuleID != "suffix-match" || run.Results[0].Level != "error" {
		t.Errorf("rules %d, results %+v", len(run.Tool.Driver.Rules), run.Results)
	}
}

func TestLimiterEndsWithItsContext(t *testing.T) {
	l := &limiter{every: 1 << 40}
	if err := l.wait(context.Background(), 1); err != nil {
		t.Fatal(err) // the first slot is now
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.wait(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v", err)
	}
	var none *limiter
	if err := none.wait(ctx, 1); err != nil {
		t.Errorf("no limit: %v", err)
	}
}

// The shards' reported keys are disjoint and together exactly the whole
// probe's; every shard runs the arbitrary origin's keys.
func TestShardsPartitionTheAttackers(t *testing.T) {
	attackers, _, err := Attackers("https://app.example.com")
	if err != nil {
		t.Fatal(err)
	}
	for n := 1; n <= 5; n++ {
		seen := map[key]int{}
		total := 0
		for i := 1; i <= n; i++ {
			p := &Probe{cfg: Config{Shard: i, Shards: n, Cookies: []string{"sid=1"}}, attackers: attackers,
				paths: []string{"/a", "/b"}, methods: []string{"GET", "POST"}}
			if n == 1 {
				p.cfg.Shard, p.cfg.Shards = 0, 0
			}
			arbitrary := 0
			for _, pk := range p.attackerKeys() {
				if pk.owned {
					seen[pk.key]++
				}
				if pk.origin == "https://evil.test" {
					arbitrary++
				}
			}
			if arbitrary != 8 {
				t.Errorf("%d/%d runs %d of the arbitrary origin's 8 keys", i, n, arbitrary)
			}
			total = len(attackers) * 8
		}
		if len(seen) != total {
			t.Errorf("%d shards report %d keys, want %d", n, len(seen), total)
		}
		for k, c := range seen {
			if c != 1 {
				t.Errorf("%d shards: %v reported %d times", n, k, c)
			}
		}
	}
}

func TestPlanSaysWhatWillBeSent(t *testing.T) {
	c := Config{Trusted: "https://app.example.com", URL: "https://api.example.com/me", AllowRemote: true, Rate: 5, Cookies: []string{"sid=1; Secure"}}
	p := &Probe{cfg: c, base: "https://api.example.com", trusted: "https://app.example.com", engines: []verdict.Engine{verdict.Chromium},
		paths: []string{"/me"}, methods: []string{"GET"}, attackers: []Attacker{{"https://evil.test", ReflectedOrigin}, {"null", NullOrigin}},
		lim: &limiter{}}
	plan := strings.Join(p.Plan(), "\n")
	for _, want := range []string{"to https://api.example.com, from real pages in chromium (each also with credentials and the cookies sid)",
		"  GET /me", "from 3 origins: https://app.example.com (trusted), https://evil.test, null", "about 6 requests", "redirects are never followed",
		"at most 5 requests per second"} {
		if !strings.Contains(plan, want) {
			t.Errorf("the plan lacks %q:\n%s", want, plan)
		}
	}
}

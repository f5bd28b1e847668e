package expect

import (
	"math/rand/v2"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/verdict"
	"github.com/corslab/corslab/servers"
)

// gen draws random valid Requests (with Policies) and Expects from a seed;
// every field of harness.RequestFields and servers.PolicyFields has a way to
// be set, and TestEveryFieldSurvivesEveryEncoding checks that each was.
type gen struct{ r *rand.Rand }

// texts are values chosen to trouble each encoding: URL escapes, YAML's
// special words and characters, quotes, non-ASCII, an empty string.
var texts = []string{"", "x", "$origin", "*", "null", "true", "yes", "1", "~", "a b", "a,b", "a: b", "#x", "&x", "!x", "- x",
	"'q'", `"q"`, "é ü", "http://app.test:1/", "%zz", "a=b&c=d", "\\", "{x}", "[x]", "|", ">"}

func (g gen) text() string { return texts[g.r.IntN(len(texts))] }

func (g gen) word() string {
	return []string{"GET", "PUT", "patch", "X-A", "ncz", "Content-Type", "Authorization", "x-b"}[g.r.IntN(8)]
}

func (g gen) chance(n int) bool { return g.r.IntN(n) == 0 }

func (g gen) lines() []string {
	if g.chance(2) {
		return nil
	}
	out := make([]string, 1+g.r.IntN(3))
	for i := range out {
		out[i] = g.text()
	}
	return out
}

// headerValue is a header value the line syntax keeps: no leading or
// trailing whitespace (an HTTP field value has none; "Name: value" drops it).
func (g gen) headerValue() string {
	return strings.TrimSpace(g.text())
}

func (g gen) headers() []servers.Header {
	if g.chance(2) {
		return nil
	}
	out := make([]servers.Header, 1+g.r.IntN(3))
	for i := range out {
		out[i] = servers.Header{Name: g.word(), Value: g.headerValue()}
	}
	return out
}

func (g gen) status() int {
	if g.chance(2) {
		return 0
	}
	return []int{200, 204, 301, 404, 500, 599}[g.r.IntN(6)]
}

func (g gen) policy(depth int) servers.Policy {
	p := servers.Policy{
		AllowOrigin: g.lines(), AllowMethods: g.lines(), AllowHeaders: g.lines(), ExposeHeaders: g.lines(),
		SetCookie: g.lines(), Headers: g.headers(), Status: g.status(), PreflightStatus: g.status(),
	}
	if g.chance(2) {
		p.AllowCredentials = g.text()
	}
	if g.chance(2) {
		p.MaxAge = []string{"0", "600", "-1", "99999"}[g.r.IntN(4)]
	}
	if g.chance(4) {
		p.MaxAge, p.MaxAgeRaw = g.text(), true
	}
	if g.chance(2) {
		p.Body = g.text()
	}
	p.NoBody = g.chance(4)
	if g.chance(4) {
		p.RawHeaders = []servers.Header{{Name: g.word(), Value: []string{"  padded  ", "\tx", "a\x00b", "", "v"}[g.r.IntN(5)]}}
	}
	if depth == 0 && g.chance(4) {
		later := g.policy(1)
		later.Later, later.LaterFrom = nil, 0
		p.Later = &later
		if g.chance(2) {
			p.LaterFrom = 1 + g.r.IntN(4)
		}
	}
	if g.chance(3) {
		p.Stall = []string{servers.StallHeaders, servers.StallResponse, servers.StallClose}[g.r.IntN(3)]
	}
	if depth == 0 && g.chance(3) {
		pre := g.policy(1)
		pre.Preflight = nil
		p.Preflight = &pre
	}
	if depth < 2 && g.chance(3) {
		p.Redirect = &servers.Redirect{Status: []int{301, 302, 303, 307, 308}[g.r.IntN(5)]}
		if g.chance(2) {
			p.Redirect.To = "http://127.0.0.1:" + []string{"1", "8080"}[g.r.IntN(2)]
		}
		if g.chance(2) {
			then := g.policy(2)
			then.Preflight = nil
			p.Redirect.Then = &then
		}
	}
	return p
}

func (g gen) request() harness.Request {
	r := harness.Request{Method: []string{"", "GET", "POST", "PUT", "patch"}[g.r.IntN(5)], Headers: g.headers(),
		Credentials: g.chance(2), UploadListener: g.chance(3)}
	if g.chance(2) {
		r.Body = g.text()
	}
	if g.chance(2) {
		r.API = harness.Fetch
		r.Mode = []string{"", "cors", "no-cors", "same-origin"}[g.r.IntN(4)]
		r.RedirectMode = []string{"", "follow", "manual", "error"}[g.r.IntN(4)]
		r.TargetAddressSpace = []string{"", "loopback", "local", "public"}[g.r.IntN(4)]
		r.UploadListener = false
	} else {
		r.API = []string{"", harness.XHR}[g.r.IntN(2)]
		r.Environment = []string{harness.Modern, harness.Legacy, harness.NoCORS}[g.r.IntN(3)]
	}
	if g.chance(3) {
		r.Timeout = time.Duration(1+g.r.IntN(5000)) * time.Millisecond
	}
	if g.chance(3) {
		r.Abort = []string{harness.AbortAfterSend, harness.AbortOnHeaders}[g.r.IntN(2)]
	}
	if r.API != harness.Fetch && r.Environment == harness.Modern && r.Abort == "" && r.Timeout == 0 && !r.UploadListener && g.chance(3) {
		r.Sync = true
	}
	if r.API != harness.Fetch && g.chance(4) {
		r.User = g.word()
		if g.chance(2) {
			r.Password = strings.TrimSpace(g.text())
		}
	}
	if r.API == harness.Fetch && g.chance(3) {
		r.ReferrerPolicy = []string{"no-referrer", "origin", "unsafe-url"}[g.r.IntN(3)]
	}
	r.Worker = g.chance(4)
	if g.chance(4) {
		r.URL = []string{"/users", "/users?page=2", "http://127.0.0.1:8080/x", "http://api.test:1/a%20b"}[g.r.IntN(4)]
		return r
	}
	r.Target = []string{harness.API, harness.Other, harness.App}[g.r.IntN(3)]
	if g.chance(2) {
		r.Path = "/" + strings.Trim(g.word(), "-")
	}
	r.Policy = g.policy(0)
	if r.Sync && r.Policy.Stall != "" && r.Policy.Stall != servers.StallClose {
		r.Policy.Stall = ""
	}
	return r
}

func (g gen) expect() harness.Expect {
	var e harness.Expect
	if g.chance(2) {
		e.Outcome = verdict.Outcomes[g.r.IntN(len(verdict.Outcomes))]
	}
	if g.chance(3) {
		e.Outcome, e.Reason = verdict.Blocked, verdict.All()[g.r.IntN(len(verdict.All()))].Reason
		if g.chance(2) {
			e.Parameter = harness.Str(g.text())
		}
	}
	if e.Outcome == verdict.Failed && g.chance(2) {
		e.Parameter = harness.Str("net::ERR_CONNECTION_REFUSED")
	}
	if g.chance(2) {
		e.Preflight = harness.Bool(g.chance(2))
	}
	if g.chance(3) {
		e.PreflightAsks = &harness.PreflightAsk{Method: g.word(), Headers: []string{"", "ncz", "x-a,x-b"}[g.r.IntN(3)]}
	}
	e.FromPageOrigin = g.chance(3)
	if g.chance(3) {
		e.Executed = harness.Bool(g.chance(2))
	}
	if g.chance(3) {
		e.AppRan = harness.Bool(g.chance(2))
	}
	if g.chance(3) {
		e.Readable = []string{g.word()}
	}
	if g.chance(3) {
		e.Unreadable = []string{g.word(), g.word()}
	}
	if g.chance(3) {
		e.CookiesSent = harness.Names([]string{"sid", "a", "b"}[:g.r.IntN(4)]...)
	}
	if g.chance(3) {
		e.Page = &harness.PageEnd{Event: "load", Transport: []string{"", "fetch", "XMLHttpRequest"}[g.r.IntN(3)]}
	}
	if g.chance(3) {
		e.Text = harness.Str(g.text())
	}
	if g.chance(3) {
		e.Status = []int{200, 204, 404, 500}[g.r.IntN(4)]
	}
	if g.chance(3) {
		e.VaryOrigin = harness.Bool(g.chance(2))
	}
	return e
}

// roundTrip checks one Request and Expect through the policy's URL, the
// share link and an expectations file.
func roundTrip(t *testing.T, req harness.Request, e harness.Expect) {
	t.Helper()
	if err := req.Validate(true); err != nil {
		t.Fatalf("the generator made an invalid request: %v\n%#v", err, req)
	}
	// The API origin's URL: the policy alone.
	pol, err := servers.ParsePolicy(req.Policy.Query())
	if err != nil || !reflect.DeepEqual(pol, req.Policy) {
		t.Fatalf("policy URL round trip of %s: %v\n got  %#v\n want %#v", req.Policy.Query().Encode(), err, pol, req.Policy)
	}
	// The share link: the request and its policy.
	q, _ := url.ParseQuery(req.Query().Encode())
	got, err := harness.ParseQuery(q)
	if err != nil || !reflect.DeepEqual(got, req) {
		t.Fatalf("share link round trip of %s: %v\n got  %#v\n want %#v", req.Query().Encode(), err, got, req)
	}
	// An expectations file: a case that sends it and expects e, then sends it again.
	sc := harness.Scenario{Name: "case", From: "https://app.example.com", Cookies: []string{"sid=1; Path=/"}, Grant: []string{harness.LoopbackNetwork}, Fresh: true,
		Sends: []harness.Send{{Request: req, Expect: e, For: map[verdict.Engine]harness.Expect{verdict.Firefox: e}},
			{Request: req, Reuse: 1, Expect: harness.Expect{PreflightCached: harness.Bool(true)}}}}
	b, err := Marshal(&File{API: "http://localhost:8080", Cases: []harness.Scenario{sc}})
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse("roundtrip.yaml", b)
	if err != nil {
		t.Fatalf("parse what Marshal wrote: %v\n%s", err, b)
	}
	back := f.Cases[0]
	back.Line = 0
	if !reflect.DeepEqual(back, sc) {
		t.Fatalf("YAML round trip:\n%s\n got  %#v\n want %#v", b, back, sc)
	}
}

// TestEveryFieldSurvivesEveryEncoding draws many requests and expectations,
// round-trips each, and checks that the draw set every field of both tables.
func TestEveryFieldSurvivesEveryEncoding(t *testing.T) {
	g := gen{rand.New(rand.NewPCG(1, 2))}
	seenReq, seenPol := map[string]bool{}, map[string]bool{}
	for range 3000 {
		req, e := g.request(), g.expect()
		roundTrip(t, req, e)
		q := url.Values{}
		harness.RequestFields.Encode(q, "", req)
		for k := range q {
			seenReq[k] = true
		}
		for k := range req.Policy.Query() {
			head, _, _ := strings.Cut(k, ".")
			seenPol[head] = true
		}
	}
	for _, k := range harness.RequestFields.Keys() {
		if !seenReq[k] {
			t.Errorf("request field %q was never set: the generator must cover every field", k)
		}
	}
	for _, k := range servers.PolicyFields.Keys() {
		if !seenPol[k] {
			t.Errorf("policy field %q was never set: the generator must cover every field", k)
		}
	}
}

// FuzzEncodings round-trips the requests a fuzzed seed draws.
// Run: go test -run '^$' -fuzz FuzzEncodings ./harness/expect
func FuzzEncodings(f *testing.F) {
	for _, s := range []uint64{1, 2, 3, 42, 1 << 40} {
		f.Add(s, s*7)
	}
	f.Fuzz(func(t *testing.T, a, b uint64) {
		g := gen{rand.New(rand.NewPCG(a, b))}
		roundTrip(t, g.request(), g.expect())
	})
}

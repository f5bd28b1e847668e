package model

import (
	"strings"
	"testing"
	"time"

	"github.com/corslab/corslab/harness/verdict"
	"github.com/corslab/corslab/servers"
)

const origin = "http://app.test:1"

func hs(kv ...string) []servers.Header {
	var out []servers.Header
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, servers.Header{Name: kv[i], Value: kv[i+1]})
	}
	return out
}

// Fetch §2.2.1 "normalize a method" and "CORS-safelisted method".
func TestNormalizeMethodUpperCasesOnlyTheSixStandardMethods(t *testing.T) {
	for in, want := range map[string]string{"post": "POST", "Get": "GET", "delete": "DELETE", "patch": "patch", "PATCH": "PATCH", "foo": "foo"} {
		if got := NormalizeMethod(in); got != want {
			t.Errorf("NormalizeMethod(%q) = %q, want %q", in, got, want)
		}
	}
	if IsSafelistedMethod("post") || !IsSafelistedMethod("POST") {
		t.Error("CORS-safelisted method is byte-case-sensitive: POST yes, post no")
	}
}

// Fetch §2.2.2 "CORS-safelisted request-header": value length, unsafe bytes, MIME essence, simple range.
func TestSafelistedRequestHeader(t *testing.T) {
	cases := []struct {
		name, value string
		want        bool
		step        string
	}{
		{"Accept", "application/json", true, "accept: no CORS-unsafe request-header byte"},
		{"Accept", `text/"x"`, false, `accept: 0x22 (") is a CORS-unsafe request-header byte`},
		{"Accept", strings.Repeat("a", 128), true, "value length 128 is allowed"},
		{"Accept", strings.Repeat("a", 129), false, "step 1: value's length greater than 128"},
		{"Content-Language", "en-US", true, "content-language: alphanumerics and -"},
		{"Content-Language", "en_US", false, "content-language: _ is not in the allowed bytes"},
		{"Content-Type", "text/plain;charset=UTF-8", true, "content-type: essence text/plain"},
		{"Content-Type", "Multipart/Form-Data; boundary=x", true, "content-type: essence is ASCII-lower-cased"},
		{"Content-Type", "application/json", false, "content-type: essence not in the three"},
		{"Content-Type", "text/plain, application/json", false, "content-type: parse a MIME type fails (subtype not a token)"},
		{"Range", "bytes=0-10", true, "range: simple range header value"},
		{"Range", "bytes=10-0", false, "range: start greater than end"},
		{"Range", "bytes=-10", false, "range: a suffix range is not simple"},
		{"X-Custom", "1", false, "any other name is not safelisted"},
		{"DPR", "2", false, "client hints are not in the standard's list"},
	}
	for _, c := range cases {
		if got := IsSafelistedRequestHeader(c.name, c.value); got != c.want {
			t.Errorf("%s: IsSafelistedRequestHeader(%q, %q) = %v, want %v", c.step, c.name, c.value, got, c.want)
		}
	}
	if !Chromium.isSafelistedRequestHeader("DPR", "2") {
		t.Error("Chrome profile: DPR is safelisted (Profile.SafelistedClientHints)")
	}
}

// Fetch §2.2.2 "CORS-unsafe request-header names": sorted, lower-cased, and the 1024-byte total rule.
func TestUnsafeRequestHeaderNames(t *testing.T) {
	got := UnsafeRequestHeaderNames(hs("X-B", "1", "accept", "a", "X-A", "2", "x-a", "3"))
	if strings.Join(got, ",") != "x-a,x-b" {
		t.Errorf("got %v, want [x-a x-b]", got)
	}
	// Repeated names are combined first ("combine"), and the combined value is what step 1 measures.
	v := strings.Repeat("a", 120)
	var many []servers.Header
	for i := 0; i < 9; i++ {
		many = append(many, servers.Header{Name: "Accept", Value: v})
	}
	// Combined, one Accept of 9*120+8*2 bytes is longer than 128 already: unsafe by step 1.
	if got := UnsafeRequestHeaderNames(many); strings.Join(got, ",") != "accept" {
		t.Errorf("combined Accept: got %v", got)
	}
}

// Fetch §4.1 main fetch step 12: the conditions that set the use-CORS-preflight path.
func TestNeedsPreflight(t *testing.T) {
	cases := []struct {
		method  string
		headers []servers.Header
		upload  bool
		mode    string
		want    bool
		why     string
	}{
		{"GET", nil, false, "", false, "safelisted method, no headers"},
		{"post", nil, false, "", false, "post normalizes to POST"},
		{"patch", nil, false, "", true, "patch is not normalized and not safelisted"},
		{"GET", hs("X-A", "1"), false, "", true, "a CORS-unsafe request-header name"},
		{"GET", nil, true, "", true, "an upload listener sets the use-CORS-preflight flag"},
		{"PUT", hs("X-A", "1"), false, "no-cors", false, "no-cors never preflights"},
	}
	for _, c := range cases {
		if got := NeedsPreflight(c.method, c.headers, c.upload, c.mode); got != c.want {
			t.Errorf("%s: NeedsPreflight = %v, want %v", c.why, got, c.want)
		}
	}
}

// Fetch §4.9 "CORS check", each step.
func TestCORSCheck(t *testing.T) {
	cases := []struct {
		acao        []string
		acac        string
		credentials bool
		want        verdict.Reason
		step        string
	}{
		{nil, "", false, verdict.MissingAllowOriginHeader, "step 2: origin is null"},
		{[]string{"*"}, "", false, "", "step 3: * without credentials"},
		{[]string{"*"}, "true", true, verdict.WildcardOriginNotAllowed, "step 3 does not apply with credentials; * is not the origin"},
		{[]string{origin + "/"}, "", false, verdict.AllowOriginMismatch, "step 4: byte-serialized origin differs (trailing slash)"},
		{[]string{origin, origin}, "", false, verdict.MultipleAllowOriginValues, "step 1: get combines two lines with \", \""},
		{[]string{"null"}, "", false, verdict.AllowOriginMismatch, "step 4: null is not the origin"},
		{[]string{""}, "", false, verdict.InvalidAllowOriginValue, "step 4: an empty value is not the origin"},
		{[]string{origin}, "", false, "", "step 5: no credentials, success"},
		{[]string{origin}, "", true, verdict.InvalidAllowCredentials, "step 7: credentials without ACAC"},
		{[]string{origin}, "True", true, verdict.InvalidAllowCredentials, "step 6: ACAC is byte-case-sensitive"},
		{[]string{origin}, "true", true, "", "step 6: ACAC true"},
		{[]string{origin}, "true ", true, "", "§2.2 normalize: the parsed value has no trailing whitespace"},
		{[]string{" * "}, "", false, "", "§2.2 normalize: padded * is *"},
	}
	for _, c := range cases {
		err := CORSCheck(origin, c.acao, c.acac, c.credentials)
		var got verdict.Reason
		if err != nil {
			got = err.Reason
		}
		if got != c.want {
			t.Errorf("%s: CORSCheck(%q, %q, %v) = %q, want %q", c.step, c.acao, c.acac, c.credentials, got, c.want)
		}
	}
}

// Fetch §2.2.2 "extracting header list values" with the #token grammar.
func TestParseHeaderList(t *testing.T) {
	if v, ok := ParseHeaderList("", false); v != nil || !ok {
		t.Errorf("no header: got %v %v, want nil (null), true", v, ok)
	}
	if v, ok := ParseHeaderList(" PUT ,, X-A\t", true); !ok || strings.Join(v, "|") != "PUT|X-A" {
		t.Errorf("got %v %v, want [PUT X-A] (empty elements skipped, whitespace trimmed)", v, ok)
	}
	if _, ok := ParseHeaderList("PUT GET", true); ok {
		t.Error("PUT GET is not a token: extraction fails")
	}
}

// Fetch §4.8 CORS-preflight fetch step 7: methods, headers, wildcards, credentials, Authorization.
func TestPreflightChecks(t *testing.T) {
	ok := servers.Policy{AllowOrigin: []string{servers.Echo}}
	with := func(f func(*servers.Policy)) servers.Policy { p := ok; f(&p); return p }
	cases := []struct {
		profile     Profile
		method      string
		headers     []servers.Header
		credentials bool
		policy      servers.Policy
		want        verdict.Reason
		step        string
	}{
		{Standard, "PUT", nil, false, with(func(p *servers.Policy) { p.AllowMethods = []string{"PUT"} }), "", "7.5: PUT in methods"},
		{Standard, "PUT", nil, false, with(func(p *servers.Policy) { p.AllowMethods = []string{"put"} }), verdict.MethodDisallowedByPreflightResponse, "7.5: methods compare byte-case-sensitively"},
		{Standard, "PUT", nil, false, with(func(p *servers.Policy) { p.AllowMethods = []string{"*"} }), "", "7.5: * covers a non-credentialed request"},
		{Standard, "PUT", nil, true, with(func(p *servers.Policy) { p.AllowMethods = []string{"*"}; p.AllowCredentials = "true" }), verdict.MethodDisallowedByPreflightResponse, "7.5: * is literal with credentials"},
		{Standard, "POST", hs("X-A", "1"), false, with(func(p *servers.Policy) { p.AllowHeaders = []string{"x-A"} }), "", "7.7: header names compare case-insensitively"},
		{Standard, "POST", hs("X-A", "1"), true, with(func(p *servers.Policy) { p.AllowHeaders = []string{"*"}; p.AllowCredentials = "true" }), verdict.HeaderDisallowedByPreflightResponse, "7.7: * is literal with credentials"},
		{Standard, "POST", hs("Authorization", "x"), false, with(func(p *servers.Policy) { p.AllowHeaders = []string{"*"} }), verdict.HeaderDisallowedByPreflightResponse, "7.6: Authorization is not covered by *"},
		{Chromium, "POST", hs("Authorization", "x"), false, with(func(p *servers.Policy) { p.AllowHeaders = []string{"*"} }), "", "Chrome profile: * covers Authorization"},
		{Standard, "PUT", nil, false, with(func(p *servers.Policy) { p.AllowMethods = []string{"PUT GET"} }), verdict.InvalidAllowMethodsPreflightResponse, "7.3: methods extraction failure"},
		{Standard, "PUT", nil, false, with(func(p *servers.Policy) {
			p.AllowMethods = []string{"PUT"}
			p.PreflightStatus = 404
			p.AllowOrigin = nil
		}), verdict.PreflightInvalidStatus, "7: not an ok status (Standard names the status)"},
		{Chromium, "PUT", nil, false, with(func(p *servers.Policy) {
			p.AllowMethods = []string{"PUT"}
			p.PreflightStatus = 404
			p.AllowOrigin = nil
		}), "PreflightMissingAllowOriginHeader", "Chrome profile: Allow-Origin is checked before the status"},
		{Chromium, "PUT", nil, false, with(func(p *servers.Policy) { p.AllowMethods = []string{"PUT"}; p.PreflightStatus = 404 }), verdict.PreflightInvalidStatus, "7: CORS check passes, status is not ok"},
	}
	for _, c := range cases {
		_, _, err := c.profile.preflightChecks(origin, NormalizeMethod(c.method), c.headers, c.credentials, false, c.policy)
		var got verdict.Reason
		if err != nil {
			got = err.Reason
		}
		if got != c.want {
			t.Errorf("%s (%s): got %q, want %q", c.step, c.profile.Name, got, c.want)
		}
	}
}

// Fetch §2.2.6 CORS filtered response and main fetch step 14: what a page may read.
func TestReadableResponseHeaders(t *testing.T) {
	names := []string{"Content-Type", "X-A", "X-B", "Set-Cookie"}
	cases := []struct {
		expose      []string
		credentials bool
		want        string
		why         string
	}{
		{nil, false, "content-type", "only the safelisted response-header names"},
		{[]string{"x-a"}, false, "content-type,x-a", "an exposed name, case-insensitively"},
		{[]string{"*"}, false, "content-type,x-a,x-b", "* exposes all but Set-Cookie without credentials"},
		{[]string{"*"}, true, "content-type", "* is literal with credentials"},
		{[]string{"X-A X-B"}, false, "content-type", "an unparsable list exposes nothing"},
	}
	for _, c := range cases {
		if got := strings.Join(ReadableResponseHeaders(names, c.expose, c.credentials), ","); got != c.want {
			t.Errorf("%s: got %q, want %q", c.why, got, c.want)
		}
	}
}

// Fetch §4.8 steps 7.8-7.9: Max-Age default, cap, and unusable values.
func TestMaxAge(t *testing.T) {
	cases := []struct {
		p       Profile
		value   string
		present bool
		want    time.Duration
		why     string
	}{
		{Standard, "", false, 5 * time.Second, "no header: 5 s"},
		{Standard, "600", true, 600 * time.Second, "delta-seconds"},
		{Standard, "99999", true, 7200 * time.Second, "capped at 7200 s"},
		{Standard, "99999999999999999999999", true, 7200 * time.Second, "too large for int64: capped"},
		{Standard, "0", true, 0, "0: no reuse"},
		{Standard, "abc", true, 5 * time.Second, "not delta-seconds: as absent"},
		{Standard, "-1", true, 0, "negative: not cached (web-platform-tests cors/preflight-cache.htm)"},
		{Chromium, "-1", true, 0, "Chromium: negative is not cached"},
	}
	for _, c := range cases {
		if got := c.p.MaxAge(c.value, c.present); got != c.want {
			t.Errorf("%s (%s): MaxAge(%q) = %v, want %v", c.why, c.p.Name, c.value, got, c.want)
		}
	}
}

// Fetch §4.8 CORS-preflight cache: entries per URL, method and header, expiry, credentials mode.
func TestPreflightCache(t *testing.T) {
	now := time.Unix(1000, 0)
	b := NewBrowser(Standard, origin)
	b.Now = func() time.Time { return now }
	pol := servers.Policy{AllowOrigin: []string{servers.Echo}, AllowCredentials: "true", AllowMethods: []string{"PUT"}, AllowHeaders: []string{"X-A"}, MaxAge: "10"}
	predict := func(url, method string, headers []servers.Header, cred bool) Prediction {
		return b.Predict(url, method, headers, cred, "", false, pol)
	}
	if p := predict("u1", "PUT", nil, false); !p.Preflight || p.Verdict.Outcome != verdict.Allowed {
		t.Fatalf("first PUT: %s, want a preflight that passes", p)
	}
	if p := predict("u1", "PUT", hs("X-A", "1"), false); !p.FromCache {
		t.Errorf("PUT with X-A after the entry was made: %s, want from cache (method and header entries)", p)
	}
	if p := predict("u2", "PUT", nil, false); p.FromCache {
		t.Errorf("another URL: %s, want a new preflight (the key has the URL)", p)
	}
	if p := predict("u1", "PUT", nil, true); p.FromCache {
		t.Errorf("credentialed after non-credentialed: %s, want a new preflight", p)
	}
	if p := predict("u1", "PUT", nil, false); !p.FromCache {
		t.Errorf("non-credentialed after credentialed: %s, want from cache", p)
	}
	now = now.Add(11 * time.Second)
	if p := predict("u1", "PUT", nil, false); p.FromCache {
		t.Errorf("after Max-Age: %s, want a new preflight", p)
	}
	pol.MaxAge = "0"
	predict("u3", "PUT", nil, false)
	if p := predict("u3", "PUT", nil, false); p.FromCache {
		t.Errorf("Max-Age 0: %s, want no reuse", p)
	}
}

// Chrome profile: a cached `*` does not cover Authorization although the fresh preflight's `*` did.
func TestChromeCacheWildcardSkipsAuthorization(t *testing.T) {
	b := NewBrowser(Chromium, origin)
	pol := servers.Policy{AllowOrigin: []string{servers.Echo}, AllowHeaders: []string{"*"}, MaxAge: "600"}
	for i, want := range []bool{false, false} {
		p := b.Predict("u", "GET", hs("Authorization", "x"), false, "", false, pol)
		if p.Verdict.Outcome != verdict.Allowed || p.FromCache != want {
			t.Errorf("request %d: %s, want allowed with a fresh preflight", i+1, p)
		}
	}
	if p := b.Predict("u", "GET", hs("X-A", "1"), false, "", false, pol); !p.FromCache {
		t.Errorf("X-A under a cached *: %s, want from cache", p)
	}
}

// Fetch §4.8 step 7.7 names no header; the profiles differ only in which one they blame.
func TestBlamedHeader(t *testing.T) {
	h := hs("X-Corslab", "1", "Content-Type", "application/json", "X-Second", "1")
	for _, c := range []struct {
		p    Profile
		want string
	}{{Standard, "content-type"}, {Chromium, "x-second"}} {
		err := c.p.headersAllowed(h, nil, false)
		if err == nil || err.FailedParameter != c.want {
			t.Errorf("%s profile: blamed %v, want %q", c.p.Name, err, c.want)
		}
	}
}

// Firefox profile: a tab's first three preflights to an IP literal are
// predicted again, and a cache hit for them is accepted; from the fourth on
// the cache answers.
func TestFirefoxFirstPreflightsOfATab(t *testing.T) {
	b := NewBrowser(Firefox, origin)
	tab := b.NewTab()
	pol := servers.Policy{AllowOrigin: []string{servers.Echo}, AllowMethods: []string{"PUT"}, MaxAge: "600"}
	const url = "http://127.0.0.1:1/u"
	first := tab.Predict(url, "PUT", nil, false, "", false, pol)
	if !first.Preflight || first.CacheMayHit {
		t.Fatalf("first PUT: %s, want a preflight with nothing cached", first)
	}
	again := tab.Predict(url, "PUT", nil, false, "", false, pol)
	if !again.Preflight || !again.CacheMayHit || !strings.Contains(again.String(), "preflight (or from cache)") {
		t.Fatalf("repeat of the first preflight: %s, want a preflight that may come from the cache", again)
	}
	if d := again.Compare(false, true, verdict.Verdict{Outcome: verdict.Allowed}, nil); len(d) != 0 {
		t.Errorf("a cache hit where one may happen: %q, want no disagreement", d)
	}
	if d := first.Compare(false, true, verdict.Verdict{Outcome: verdict.Allowed}, nil); len(d) == 0 {
		t.Errorf("no preflight for a request nothing cached covers: want a disagreement")
	}
	tab.Predict(url, "PUT", nil, false, "", false, pol) // the third preflight
	tab.Predict(url, "PUT", nil, false, "", false, pol) // the fourth, which is stored
	if p := tab.Predict(url, "PUT", nil, false, "", false, pol); !p.FromCache {
		t.Errorf("after the fourth preflight: %s, want from cache", p)
	}
}

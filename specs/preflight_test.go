package specs_test

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/servers"
)

// Sections B and C: which requests Chrome preflights, what the preflight
// asks, and how Chrome reads the answer.
var _ = Describe("simple and preflighted requests (section B)", func() {
	open := servers.Policy{AllowOrigin: echo, AllowMethods: []string{"PUT", "DELETE", "PATCH", "FOO", "patch"},
		AllowHeaders: []string{"X-A, X-B, Content-Type, Accept, Authorization"}}
	h := func(name, value string) []servers.Header { return []servers.Header{{Name: name, Value: value}} }
	simple := func(method string, hs []servers.Header) harness.Request {
		return harness.Request{Method: method, Headers: hs, Body: map[bool]string{true: "x"}[method == "POST"], Policy: open}
	}

	DescribeTable("in real Chrome", scenarioTable, entries(
		perAPI("GET is simple: no preflight", both, simple("GET", nil), allowed, noPreflight, fromPage),
		perAPI("HEAD is simple: no preflight", both, simple("HEAD", nil), allowed, noPreflight),
		perAPI("POST text/plain is simple: no preflight", both, simple("POST", h("Content-Type", "text/plain")), allowed, noPreflight),
		perAPI("POST application/x-www-form-urlencoded is simple", both, simple("POST", h("Content-Type", "application/x-www-form-urlencoded")), allowed, noPreflight),
		perAPI("POST multipart/form-data is simple", both, simple("POST", h("Content-Type", "multipart/form-data; boundary=x")), allowed, noPreflight),
		perAPI("PUT is preflighted", both, simple("PUT", nil), preflightedFor("PUT", "")),
		perAPI("DELETE is preflighted", both, simple("DELETE", nil), preflightedFor("DELETE", "")),
		perAPI("PATCH is preflighted", both, simple("PATCH", nil), preflightedFor("PATCH", "")),
		perAPI("a custom method FOO is preflighted", both, simple("FOO", nil), preflightedFor("FOO", "")),
		perAPI(`"put" is normalised to PUT (one of the six)`, both, simple("put", nil), preflightedFor("PUT", "")),
		perAPI(`"patch" is sent as written and matched case-sensitively`, both,
			harness.Request{Method: "patch", Policy: servers.Policy{AllowOrigin: echo, AllowMethods: []string{"PATCH"}}},
			preflight, blocked("MethodDisallowedByPreflightResponse", "patch")),
		perAPI("Accept, Accept-Language and Content-Language are safelisted", both,
			harness.Request{Headers: []servers.Header{{Name: "Accept", Value: "text/x"}, {Name: "Accept-Language", Value: "fr"}, {Name: "Content-Language", Value: "fr"}}, Policy: open},
			allowed, noPreflight),
		perAPI("Content-Type application/json is preflighted", both, simple("POST", h("Content-Type", "application/json")), preflightedFor("POST", "content-type")),
		perAPI("an Accept value over 128 bytes is preflighted", both, simple("GET", h("Accept", strings.Repeat("a", 129))), preflightedFor("GET", "accept")),
		perAPI(`an Accept value with an unsafe byte (") is preflighted`, both, simple("GET", h("Accept", `a"b`)), preflightedFor("GET", "accept")),
		perAPI("a custom header is preflighted; the request names are lower-cased, sorted and never list safelisted headers", both,
			harness.Request{Method: "POST", Body: "x", Headers: []servers.Header{{Name: "X-B", Value: "1"}, {Name: "Content-Type", Value: "text/plain"}, {Name: "X-A", Value: "1"}}, Policy: open},
			preflightedFor("POST", "x-a,x-b")),
		perAPI("a header set twice is named once", []string{harness.XHR},
			harness.Request{Headers: []servers.Header{{Name: "X-A", Value: "1"}, {Name: "x-a", Value: "2"}}, Policy: open},
			preflightedFor("GET", "x-a")),
		perAPI("an xhr.upload listener makes a POST preflighted", []string{harness.XHR},
			harness.Request{Method: "POST", Body: "x", UploadListener: true, Policy: open}, preflightedFor("POST", "")),
		perAPI("Allow-Headers names match case-insensitively, with whitespace around list items", both,
			harness.Request{Headers: h("x-A", "1"), Policy: servers.Policy{AllowOrigin: echo, AllowHeaders: []string{" X-b ,  X-a "}}},
			preflightedFor("GET", "x-a")),
	))

	DescribeTable("no-cors for contrast: no preflight, no CORS check, an opaque answer", scenarioTable, entries(
		perAPI("a simple POST with no Access-Control-Allow-Origin reaches the server and gives an opaque response", fetchOnly,
			harness.Request{Mode: "no-cors", Method: "POST", Body: "x"}, opaque, noPreflight),
		perAPI("GET with an Allow-Origin is still opaque", fetchOnly, harness.Request{Mode: "no-cors", Policy: open}, opaque),
	))
})

var _ = Describe("preflight response validation (section C)", func() {
	pre := func(p servers.Policy, credentials bool) harness.Request { return put(p, credentials) }
	ok := []string{"PUT"}

	var statusEntries []TableEntry
	for _, code := range []int{200, 204, 299} {
		statusEntries = append(statusEntries, perAPI("a "+itoa(code)+" preflight passes", both,
			pre(servers.Policy{AllowOrigin: echo, AllowMethods: ok, PreflightStatus: code}, false), allowed, preflight)...)
	}
	for _, code := range []int{300, 400, 404, 500, 503} {
		statusEntries = append(statusEntries, perAPI("a "+itoa(code)+" preflight with its CORS headers fails: PreflightInvalidStatus", both,
			pre(servers.Policy{AllowOrigin: echo, AllowMethods: ok, PreflightStatus: code}, false), blocked("PreflightInvalidStatus"))...)
	}
	statusEntries = append(statusEntries, perAPI("a 404 preflight without Allow-Origin reports the missing header first (Chrome checks Allow-Origin before status)", both,
		pre(servers.Policy{PreflightStatus: 404}, false), blocked("PreflightMissingAllowOriginHeader"))...)
	DescribeTable("preflight status", scenarioTable, statusEntries)

	DescribeTable("Allow-Origin parsing: exact match only", scenarioTable, entries(
		perAPI("an upper-case scheme does not match: AllowOriginMismatch", both,
			harness.Request{Policy: servers.Policy{AllowOrigin: []string{"HTTP://127.0.0.1"}}}, blocked("AllowOriginMismatch")),
		perAPI("a list of two origins: MultipleAllowOriginValues", both,
			harness.Request{Policy: servers.Policy{AllowOrigin: []string{"http://127.0.0.1:1, http://127.0.0.1:2"}}}, blocked("MultipleAllowOriginValues")),
		perAPI("two values separated by a space count as multiple (Chrome splits on whitespace)", both,
			harness.Request{Policy: servers.Policy{AllowOrigin: []string{"not an-origin"}}}, blocked("MultipleAllowOriginValues")),
		perAPI("Allow-Origin null does not match a page origin", both,
			harness.Request{Policy: servers.Policy{AllowOrigin: []string{"null"}}}, blocked("AllowOriginMismatch", "null")),
	))

	DescribeTable("wildcards", scenarioTable, entries(
		perAPI("Allow-Methods * covers PUT without credentials", both,
			pre(servers.Policy{AllowOrigin: echo, AllowMethods: []string{"*"}}, false), allowed, preflight),
		perAPI("Allow-Methods * is the literal method name \"*\" with credentials", both,
			pre(servers.Policy{AllowOrigin: echo, AllowCredentials: "true", AllowMethods: []string{"*"}}, true), blocked("MethodDisallowedByPreflightResponse", "PUT")),
		perAPI("Allow-Headers * covers X-A without credentials", both,
			withHeader(pre(servers.Policy{AllowOrigin: echo, AllowMethods: ok, AllowHeaders: []string{"*"}}, false), "X-A"), allowed),
		perAPI("Allow-Headers * is literal with credentials", both,
			withHeader(pre(servers.Policy{AllowOrigin: echo, AllowCredentials: "true", AllowMethods: ok, AllowHeaders: []string{"*"}}, true), "X-A"),
			blocked("HeaderDisallowedByPreflightResponse", "x-a")),
		perAPI("Chrome departs from the Fetch standard: Allow-Headers * covers Authorization (the standard says it never does)", both,
			withHeader(pre(servers.Policy{AllowOrigin: echo, AllowMethods: ok, AllowHeaders: []string{"*"}}, false), "Authorization"), allowed),
	))
})

func withHeader(r harness.Request, name string) harness.Request {
	r.Headers = append(r.Headers, servers.Header{Name: name, Value: "1"})
	return r
}

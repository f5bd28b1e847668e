package webkit

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/verdict"
	"github.com/corslab/corslab/servers"
)

const wrongACAO = "http://127.0.0.1:1"

// put is a preflighted PUT whose preflight answers pre; the actual response allows it.
func put(pre servers.Policy, credentials bool, headers ...servers.Header) harness.Request {
	return harness.Request{Method: "PUT", Credentials: credentials, Headers: headers,
		Policy: servers.Policy{AllowOrigin: echo, AllowCredentials: "true", Preflight: &pre}}
}

// reasonCase is one way to make WebKit block a request: the request, the
// common reason after the harness's refinement, the value it blames, and
// WebKit's own words.
type reasonCase struct {
	name   string
	build  func(o *servers.Origins) harness.Request
	reason verdict.Reason
	param  string // "" = none; a value ending in "*" is a prefix
	words  string
}

func simple(p servers.Policy) func(*servers.Origins) harness.Request {
	return func(*servers.Origins) harness.Request { return harness.Request{Policy: p} }
}

func credentialed(p servers.Policy) func(*servers.Origins) harness.Request {
	return func(*servers.Origins) harness.Request { return harness.Request{Credentials: true, Policy: p} }
}

func preflighted(pre servers.Policy, credentials bool, headers ...servers.Header) func(*servers.Origins) harness.Request {
	return func(*servers.Origins) harness.Request { return put(pre, credentials, headers...) }
}

const (
	notAllowed200 = "Origin is not allowed by Access-Control-Allow-Origin. Status code: 200"
	notAllowed204 = "Origin is not allowed by Access-Control-Allow-Origin. Status code: 204"
	twoOrigins    = "Access-Control-Allow-Origin cannot contain more than one origin."
	wildcard      = "Cannot use wildcard in Access-Control-Allow-Origin when credentials flag is true."
	notTrue       = `Credentials flag is true, but Access-Control-Allow-Credentials is not "true".`
)

// reasonCases are the CorsError producers of specs/corserror_test.go that
// loopback origins reach in WebKit, re-created, plus WebKit's own orders.
var reasonCases = []reasonCase{
	{"no Allow-Origin", simple(servers.Policy{}), verdict.MissingAllowOriginHeader, "", notAllowed200},
	{"Allow-Origin names another origin", simple(servers.Policy{AllowOrigin: []string{wrongACAO}}), verdict.AllowOriginMismatch, wrongACAO, notAllowed200},
	{"Allow-Origin has no scheme", simple(servers.Policy{AllowOrigin: []string{"127.0.0.1"}}), verdict.InvalidAllowOriginValue, "127.0.0.1", notAllowed200},
	{"Allow-Origin sent twice", simple(servers.Policy{AllowOrigin: []string{servers.Echo, servers.Echo}}), verdict.MultipleAllowOriginValues, "", twoOrigins},
	{"credentials and Allow-Origin *", credentialed(servers.Policy{AllowOrigin: []string{"*"}, AllowCredentials: "true"}), verdict.WildcardOriginNotAllowed, "", wildcard},
	{`credentials and Allow-Credentials "True"`, credentialed(servers.Policy{AllowOrigin: echo, AllowCredentials: "True"}), verdict.InvalidAllowCredentials, "", notTrue},
	{"the preflight has no Allow-Origin", preflighted(servers.Policy{AllowMethods: []string{"PUT"}}, false), verdict.PreflightMissingAllowOriginHeader, "", notAllowed204},
	{"the preflight's Allow-Origin names another origin", preflighted(servers.Policy{AllowOrigin: []string{wrongACAO}, AllowMethods: []string{"PUT"}}, false),
		verdict.PreflightAllowOriginMismatch, wrongACAO, notAllowed204},
	{"the preflight's Allow-Origin has no scheme", preflighted(servers.Policy{AllowOrigin: []string{"127.0.0.1"}, AllowMethods: []string{"PUT"}}, false),
		verdict.PreflightInvalidAllowOriginValue, "127.0.0.1", notAllowed204},
	{"the preflight sends Allow-Origin twice", preflighted(servers.Policy{AllowOrigin: []string{servers.Echo, servers.Echo}, AllowMethods: []string{"PUT"}}, false),
		verdict.PreflightMultipleAllowOriginValues, "", twoOrigins},
	{"a credentialed preflight gets Allow-Origin *", preflighted(servers.Policy{AllowOrigin: []string{"*"}, AllowCredentials: "true", AllowMethods: []string{"PUT"}}, true),
		verdict.PreflightWildcardOriginNotAllowed, "", wildcard},
	{"a credentialed preflight has no Allow-Credentials", preflighted(servers.Policy{AllowOrigin: echo, AllowMethods: []string{"PUT"}}, true),
		verdict.PreflightInvalidAllowCredentials, "", notTrue},
	{"the preflight answers 500 with its CORS headers", preflighted(servers.Policy{AllowOrigin: echo, AllowMethods: []string{"PUT"}, PreflightStatus: 500}, false),
		verdict.PreflightInvalidStatus, "", "Preflight response is not successful. Status code: 500"},
	// Chromium: PreflightDisallowedRedirect. WebKit calls any non-2xx preflight a bad status.
	{"the preflight answers with a 307 redirect", preflighted(servers.Policy{AllowOrigin: echo, AllowMethods: []string{"PUT"}, Redirect: &servers.Redirect{Status: 307}}, false),
		verdict.PreflightInvalidStatus, "", "Preflight response is not successful. Status code: 307"},
	// Chromium: PreflightMissingAllowOriginHeader. WebKit checks the status before the headers.
	{"the preflight answers 404 without Allow-Origin", preflighted(servers.Policy{AllowMethods: []string{"PUT"}, PreflightStatus: 404}, false),
		verdict.PreflightInvalidStatus, "", "Preflight response is not successful. Status code: 404"},
	{"Allow-Methods is not a list of tokens", preflighted(servers.Policy{AllowOrigin: echo, AllowMethods: []string{"PUT;"}}, false),
		verdict.InvalidAllowMethodsPreflightResponse, "PUT;", "Header Access-Control-Allow-Methods has an invalid value: PUT;"},
	{"Allow-Headers is not a list of tokens", preflighted(servers.Policy{AllowOrigin: echo, AllowMethods: []string{"PUT"}, AllowHeaders: []string{"x-a;"}}, false, servers.Header{Name: "X-A", Value: "1"}),
		verdict.InvalidAllowHeadersPreflightResponse, "x-a;", "Header Access-Control-Allow-Headers has an invalid value: x-a;"},
	{"the preflight does not allow PUT", preflighted(servers.Policy{AllowOrigin: echo, AllowMethods: []string{"POST"}}, false),
		verdict.MethodDisallowedByPreflightResponse, "PUT", "Method PUT is not allowed by Access-Control-Allow-Methods."},
	{"the preflight does not allow the header X-A", preflighted(servers.Policy{AllowOrigin: echo, AllowMethods: []string{"PUT"}}, false, servers.Header{Name: "X-A", Value: "1"}),
		verdict.HeaderDisallowedByPreflightResponse, "x-a", "Request header field X-A is not allowed by Access-Control-Allow-Headers."},
	{"a redirect's Location carries user:password@", func(o *servers.Origins) harness.Request {
		to := strings.Replace(o.Other.URL, "://", "://user:secret@", 1)
		return harness.Request{Policy: servers.Policy{AllowOrigin: echo, Redirect: &servers.Redirect{Status: 302, To: to, Then: &servers.Policy{AllowOrigin: echo}}}}
	}, verdict.RedirectContainsCredentials, "http://user:secret@*", "Cross-origin redirection denied by Cross-Origin Resource Sharing policy: redirection URL has credentials"},
	{"a redirect hop has no Allow-Origin", func(o *servers.Origins) harness.Request {
		return harness.Request{Policy: servers.Policy{Redirect: &servers.Redirect{Status: 302, To: o.Other.URL, Then: &servers.Policy{AllowOrigin: echo}}}}
	}, verdict.MissingAllowOriginHeader, "", "Cross-origin redirection denied by Cross-Origin Resource Sharing policy: Origin is not allowed by Access-Control-Allow-Origin. Status code: 302"},
}

// Every CORS failure WebKit gives over loopback, through XHR and fetch:
// the common reason after the harness's refinement, WebKit's words without
// the run's URLs, and three views that tell one story.
func TestReasons(t *testing.T) {
	needWebKit(t)
	env := startEnv(t, harness.Options{WarmSessions: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	for _, c := range reasonCases {
		for _, api := range []string{harness.XHR, harness.Fetch} {
			req := c.build(env.Origins)
			req.API = api
			r, err := env.Do(ctx, req)
			if err != nil {
				t.Fatalf("%s (%s): %v", c.name, api, err)
			}
			b := r.Browser
			param := b.FailedParameter == c.param
			if prefix, ok := strings.CutSuffix(c.param, "*"); ok {
				param = strings.HasPrefix(b.FailedParameter, prefix)
			}
			if b.Reason != c.reason || !param || b.EngineReason != c.words || r.Page.Event != "error" || len(r.Disagreements()) > 0 {
				t.Errorf("%s (%s): want %s (%s), WebKit: %q; got:\n%s", c.name, api, c.reason, c.param, c.words, r)
			}
		}
	}
}

// The sentences of WebKitGTK 2.50, as TestReasons meets them with the run's URLs.
func TestParseReason(t *testing.T) {
	for _, c := range []struct {
		text   string
		reason verdict.Reason
		param  string
		words  string
	}{
		{"Origin http://127.0.0.1:1 is not allowed by Access-Control-Allow-Origin. Status code: 200", verdict.AllowOriginRejected, "", notAllowed200},
		{"Origin null is not allowed by Access-Control-Allow-Origin. Status code: 200", verdict.AllowOriginRejected, "", "Origin null is not allowed by Access-Control-Allow-Origin. Status code: 200"},
		{"Preflight response is not successful. Status code: 307", verdict.PreflightInvalidStatus, "", "Preflight response is not successful. Status code: 307"},
		{"Request header field X-A is not allowed by Access-Control-Allow-Headers.", verdict.HeaderDisallowedByPreflightResponse, "x-a", "Request header field X-A is not allowed by Access-Control-Allow-Headers."},
		{"Cross-origin redirection to http://127.0.0.1:2/cors/t denied by Cross-Origin Resource Sharing policy: redirection URL http://user:secret@127.0.0.1:2/cors/t has credentials",
			verdict.RedirectContainsCredentials, "http://user:secret@127.0.0.1:2/cors/t", "Cross-origin redirection denied by Cross-Origin Resource Sharing policy: redirection URL has credentials"},
		{"Could not connect to the server.", "", "", "Could not connect to the server."},
	} {
		reason, param, _ := parseReason(c.text)
		if reason != c.reason || param != c.param || plainWords(c.text) != c.words {
			t.Errorf("%q: %q %q %q; want %q %q %q", c.text, reason, param, plainWords(c.text), c.reason, c.param, c.words)
		}
	}
	// WebKit's text ends at "must".
	mixed := "[blocked] The page at https://app.example.com/ requested insecure content from http://127.0.0.1:4/cors/t?a=b. This content was blocked and must"
	if !isMixedContent(mixed) || plainWords(mixed) != "[blocked] The page requested insecure content. This content was blocked and must" {
		t.Errorf("mixed content: %v %q", isMixedContent(mixed), plainWords(mixed))
	}
	redirect := "Not allowed to follow a redirection while loading http://127.0.0.1:4/cors/t?a=b"
	if _, _, ok := parseReason(redirect); ok || !notCORS(redirect) || plainWords(redirect) != "Not allowed to follow a redirection while loading" {
		t.Errorf("a redirect fetch's redirect mode refused: %q", plainWords(redirect))
	}
}

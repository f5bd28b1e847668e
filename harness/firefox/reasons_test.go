package firefox

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/verdict"
	"github.com/corslab/corslab/servers"
)

// wrongACAO is an Access-Control-Allow-Origin that names another origin.
const wrongACAO = "http://127.0.0.1:1"

// put is a preflighted request whose preflight answers pre.
func put(pre servers.Policy, credentials bool) harness.Request {
	return harness.Request{Method: "PUT", Credentials: credentials, Policy: servers.Policy{AllowOrigin: echo, AllowCredentials: "true", Preflight: &pre}}
}

// firefoxReasons are the common reasons Firefox can produce over loopback:
// the producers of specs/corserror_test.go, re-created with servers.Policy,
// each with the reason the harness reports once it has refined Firefox's
// words, Firefox's category, and the parameter when one is blamed. The
// rest of that list are Chromium's Local Network Access reasons, which
// Firefox does not report.
var firefoxReasons = []struct {
	reason   verdict.Reason
	category string
	param    string
	build    func(o *servers.Origins) harness.Request
}{
	{verdict.MissingAllowOriginHeader, "CORSMissingAllowOrigin2", "",
		func(*servers.Origins) harness.Request { return harness.Request{} }},
	{verdict.AllowOriginMismatch, "CORSAllowOriginNotMatchingOrigin", wrongACAO,
		func(*servers.Origins) harness.Request {
			return harness.Request{Policy: servers.Policy{AllowOrigin: []string{wrongACAO}}}
		}},
	{verdict.InvalidAllowOriginValue, "CORSAllowOriginNotMatchingOrigin", "127.0.0.1",
		func(*servers.Origins) harness.Request {
			return harness.Request{Policy: servers.Policy{AllowOrigin: []string{"127.0.0.1"}}}
		}},
	{verdict.MultipleAllowOriginValues, "CORSMultipleAllowOriginNotAllowed", "",
		func(*servers.Origins) harness.Request {
			return harness.Request{Policy: servers.Policy{AllowOrigin: []string{servers.Echo, servers.Echo}}}
		}},
	{verdict.WildcardOriginNotAllowed, "CORSNotSupportingCredentials", "",
		func(*servers.Origins) harness.Request {
			return harness.Request{Credentials: true, Policy: servers.Policy{AllowOrigin: []string{"*"}, AllowCredentials: "true"}}
		}},
	{verdict.InvalidAllowCredentials, "CORSMissingAllowCredentials", "",
		func(*servers.Origins) harness.Request {
			return harness.Request{Credentials: true, Policy: servers.Policy{AllowOrigin: echo, AllowCredentials: "True"}}
		}},
	{verdict.PreflightMissingAllowOriginHeader, "CORSMissingAllowOrigin2", "",
		func(*servers.Origins) harness.Request {
			return put(servers.Policy{AllowMethods: []string{"PUT"}}, false)
		}},
	{verdict.PreflightAllowOriginMismatch, "CORSAllowOriginNotMatchingOrigin", wrongACAO,
		func(*servers.Origins) harness.Request {
			return put(servers.Policy{AllowOrigin: []string{wrongACAO}, AllowMethods: []string{"PUT"}}, false)
		}},
	{verdict.PreflightInvalidAllowOriginValue, "CORSAllowOriginNotMatchingOrigin", "127.0.0.1",
		func(*servers.Origins) harness.Request {
			return put(servers.Policy{AllowOrigin: []string{"127.0.0.1"}, AllowMethods: []string{"PUT"}}, false)
		}},
	{verdict.PreflightMultipleAllowOriginValues, "CORSMultipleAllowOriginNotAllowed", "",
		func(*servers.Origins) harness.Request {
			return put(servers.Policy{AllowOrigin: []string{servers.Echo, servers.Echo}, AllowMethods: []string{"PUT"}}, false)
		}},
	{verdict.PreflightWildcardOriginNotAllowed, "CORSNotSupportingCredentials", "",
		func(*servers.Origins) harness.Request {
			return put(servers.Policy{AllowOrigin: []string{"*"}, AllowCredentials: "true", AllowMethods: []string{"PUT"}}, true)
		}},
	{verdict.PreflightInvalidAllowCredentials, "CORSMissingAllowCredentials", "",
		func(*servers.Origins) harness.Request {
			return put(servers.Policy{AllowOrigin: echo, AllowMethods: []string{"PUT"}}, true)
		}},
	{verdict.PreflightInvalidStatus, "CORSPreflightDidNotSucceed3", "",
		func(*servers.Origins) harness.Request {
			return put(servers.Policy{AllowOrigin: echo, AllowMethods: []string{"PUT"}, PreflightStatus: 500}, false)
		}},
	{verdict.PreflightDisallowedRedirect, "CORSExternalRedirectNotAllowed", "",
		func(*servers.Origins) harness.Request {
			return put(servers.Policy{AllowOrigin: echo, AllowMethods: []string{"PUT"}, Redirect: &servers.Redirect{Status: 307}}, false)
		}},
	{verdict.InvalidAllowMethodsPreflightResponse, "CORSInvalidAllowMethod", "PUT;",
		func(*servers.Origins) harness.Request {
			return put(servers.Policy{AllowOrigin: echo, AllowMethods: []string{"PUT;"}}, false)
		}},
	{verdict.InvalidAllowHeadersPreflightResponse, "CORSInvalidAllowHeader", "x-a;",
		func(*servers.Origins) harness.Request {
			r := put(servers.Policy{AllowOrigin: echo, AllowMethods: []string{"PUT"}, AllowHeaders: []string{"x-a;"}}, false)
			r.Headers = []servers.Header{{Name: "X-A", Value: "1"}}
			return r
		}},
	{verdict.MethodDisallowedByPreflightResponse, "CORSMethodNotFound", "PUT",
		func(*servers.Origins) harness.Request {
			return put(servers.Policy{AllowOrigin: echo, AllowMethods: []string{"POST"}}, false)
		}},
	{verdict.HeaderDisallowedByPreflightResponse, "CORSMissingAllowHeaderFromPreflight2", "x-a",
		func(*servers.Origins) harness.Request {
			r := put(servers.Policy{AllowOrigin: echo, AllowMethods: []string{"PUT"}}, false)
			r.Headers = []servers.Header{{Name: "X-A", Value: "1"}}
			return r
		}},
	{verdict.RedirectContainsCredentials, "CORSDidNotSucceed2 (RedirectContainsCredentials inferred from the redirect's Location)", "",
		func(o *servers.Origins) harness.Request {
			to := strings.Replace(o.Other.URL, "://", "://user:secret@", 1)
			return harness.Request{Policy: servers.Policy{AllowOrigin: echo, Redirect: &servers.Redirect{Status: 302, To: to,
				Then: &servers.Policy{AllowOrigin: echo}}}}
		}},
}

// Every common reason Firefox can produce over loopback, through XHR and
// fetch: the reason (after the harness's refinement), Firefox's category,
// the blamed value, and three views that tell one story.
func TestEveryReasonFirefoxProduces(t *testing.T) {
	needFirefox(t)
	t.Parallel()
	env := startEnv(t, harness.Options{WarmSessions: -1, ShareBrowser: true})
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	for _, tc := range firefoxReasons {
		for _, api := range []string{harness.XHR, harness.Fetch} {
			req := tc.build(env.Origins)
			req.API = api
			r, err := env.Do(ctx, req)
			b := r.Browser
			switch {
			case err != nil:
				t.Errorf("%s (%s): %v\n%s", tc.reason, api, err, r)
			case b.Reason != tc.reason || b.EngineReason != tc.category:
				t.Errorf("%s (%s): reason %s, Firefox's %q; want %s, %q\n%s", tc.reason, api, b.Reason, b.EngineReason, tc.reason, tc.category, r)
			case tc.param != "" && b.FailedParameter != tc.param:
				t.Errorf("%s (%s): parameter %q, want %q\n%s", tc.reason, api, b.FailedParameter, tc.param, r)
			case len(r.Disagreements()) > 0 || len(r.Notes) > 0 || len(b.Messages) == 0:
				t.Errorf("%s (%s): disagreements %q, notes %q, messages %q\n%s", tc.reason, api, r.Disagreements(), r.Notes, b.Messages, r)
			}
		}
	}
}

package firefox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/verdict"
)

func TestTokenOf(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:1/cors/abc123/?x=1":                                 "abc123",
		"http://127.0.0.1:1/cors/abc123":                                      "abc123",
		"http://127.0.0.1:1/api?corslab-token=t-1&a=b":                        "t-1",
		"… resource at https://127.0.0.1:2/?corslab-token=ab_9. (Reason: …)":  "ab_9",
		"http://127.0.0.1:1/api?x-corslab-token=no":                           "",
		"Cross-Origin Request Blocked: … at http://h/cors/ff00/. (Reason: …)": "ff00",
		"http://127.0.0.1:1/other":                                            "",
	} {
		if got := tokenOf(in); got != want {
			t.Errorf("tokenOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParam(t *testing.T) {
	for _, tc := range []struct{ cat, msg, want string }{
		{"CORSAllowOriginNotMatchingOrigin", "… (Reason: CORS header ‘Access-Control-Allow-Origin’ does not match ‘http://127.0.0.1:1’).", "http://127.0.0.1:1"},
		{"CORSInvalidAllowMethod", "… (Reason: invalid token ‘PUT;’ in CORS header ‘Access-Control-Allow-Methods’).", "PUT;"},
		{"CORSMissingAllowHeaderFromPreflight2", "… (Reason: header ‘x-a’ is not allowed according to header ‘Access-Control-Allow-Headers’ from CORS preflight response).", "x-a"},
		{"CORSMissingAllowOrigin2", "… (Reason: CORS header ‘Access-Control-Allow-Origin’ missing). Status code: 200.", ""},
	} {
		if got := param(category(tc.cat), tc.msg); got != tc.want {
			t.Errorf("param(%s) = %q, want %q", tc.cat, got, tc.want)
		}
	}
}

func TestClassify(t *testing.T) {
	pre := &harness.Exchange{Type: "Preflight", Failed: true, Finished: true, Status: 204, OnWire: true,
		RequestHeaders: map[string]string{"access-control-request-method": "PUT"}}
	actual := &harness.Exchange{Failed: true, Finished: true}
	msgs := []consoleMessage{{Category: "CORSMissingAllowOrigin2"}, {Category: "CORSDidNotSucceed2"}}
	rs := classify(msgs, pre, actual)
	if !rs[0].preflight || rs[0].common != verdict.PreflightMissingAllowOriginHeader || rs[1].common != "" {
		t.Errorf("a failed preflight's reasons: %+v", rs)
	}
	rs = classify([]consoleMessage{{Category: "CORSMethodNotFound"}}, pre, actual)
	if rs[0].common != verdict.MethodDisallowedByPreflightResponse || rs[0].param != "PUT" {
		t.Errorf("a method the preflight did not allow: %+v", rs)
	}
	rs = classify([]consoleMessage{{Category: "CORSAllowOriginNotMatchingOrigin", Message: "(Reason: … does not match ‘x’)."}}, nil, &harness.Exchange{Status: 200, Finished: true, OnWire: true})
	if rs[0].preflight || rs[0].common != verdict.AllowOriginRejected || rs[0].param != "x" {
		t.Errorf("an Allow-Origin Firefox rejected: %+v", rs)
	}
	rs = classify([]consoleMessage{{Category: "CORSAllowHeaderFromPreflightDeprecation", Flags: 1}}, &harness.Exchange{Type: "Preflight", Status: 204}, nil)
	if !rs[0].warning || !rs[0].preflight || rs[0].common != "" {
		t.Errorf("the deprecation warning: %+v", rs)
	}
	for _, tc := range []struct {
		cat       string
		preflight bool
		want      verdict.Reason
	}{
		{"CORSExternalRedirectNotAllowed", true, verdict.PreflightDisallowedRedirect},
		{"CORSExternalRedirectNotAllowed", false, verdict.Other},
		{"CORSRequestNotHttp", false, verdict.CorsDisabledScheme},
		{"CORSOriginHeaderNotAdded", false, verdict.Other},
		{"CORSDisabled", false, verdict.Other},
		{"CORSSomethingNew", false, verdict.Other},
	} {
		var p *harness.Exchange
		if tc.preflight {
			p = pre
		}
		rs := classify([]consoleMessage{{Category: tc.cat, Message: "Cross-Origin Request Blocked: … (Reason: why)."}}, p, actual)
		if rs[0].common != tc.want || rs[0].engineReason() != tc.cat {
			t.Errorf("%s (preflight %v): %+v, want %s", tc.cat, tc.preflight, rs[0], tc.want)
		}
		if tc.want == verdict.Other && rs[0].param != tc.cat+": why" {
			t.Errorf("%s: parameter %q, want the category and Firefox's words", tc.cat, rs[0].param)
		}
	}
	redirected := &harness.Exchange{Failed: true, URL: "http://user:secret@127.0.0.1:2/cors/t/", Redirects: []harness.Redirect{{Status: 302}}}
	rs = classify([]consoleMessage{{Category: "CORSDidNotSucceed2"}}, nil, redirected)
	if rs[0].common != verdict.RedirectContainsCredentials || !strings.Contains(rs[0].engineReason(), "inferred") {
		t.Errorf("a redirect to user:password@: %+v", rs)
	}
	rs = classify([]consoleMessage{{Category: "CORSDidNotSucceed2"}}, nil, &harness.Exchange{Failed: true, ErrorText: "NS_ERROR_NET_RESET"})
	if rs[0].common != "" {
		t.Errorf("a network failure is not a CORS block: %+v", rs)
	}
}

func TestUserJS(t *testing.T) {
	dir := t.TempDir()
	err := writeUserJS(dir, config{names: []string{"app.test", "api.test"}, thirdParty: true, prefs: map[string]any{"a.b": "x\"y"}})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "user.js"))
	for _, want := range []string{`user_pref("network.dns.localDomains", "app.test,api.test");`,
		`user_pref("network.cookie.cookieBehavior", 0);`, `user_pref("a.b", "x\"y");`,
		`user_pref("dom.min_background_timeout_value", 4);`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("user.js lacks %s:\n%s", want, data)
		}
	}
	if err := writeUserJS(dir, config{names: []string{"*.test"}}); err == nil {
		t.Error("a wildcard host was accepted")
	}
}

// What ends the wait for Firefox's view of a request.
func TestJudge(t *testing.T) {
	done := &harness.Exchange{Finished: true, Status: 200}
	failed := &harness.Exchange{Finished: true, Failed: true, ErrorText: "NS_ERROR_NET_RESET"}
	canceled := &harness.Exchange{Finished: true, Failed: true, Canceled: true, ErrorText: "NS_BINDING_ABORTED"}
	redirected := &harness.Exchange{Status: 302}
	blocked := []reason{{category: "CORSMissingAllowOrigin2", common: verdict.MissingAllowOriginHeader}}
	warning := []reason{{category: "CORSAllowHeaderFromPreflightDeprecation", warning: true}}
	generic := []reason{{category: didNotSucceed}}
	for _, tc := range []struct {
		name string
		page harness.PageView
		v    view
		want state
	}{
		{"nothing sent", harness.PageView{Event: "unsupported"}, view{}, final},
		{"threw before sending", harness.PageView{Event: "exception"}, view{}, final},
		{"loaded, nothing seen yet", harness.PageView{Event: "load"}, view{}, pending},
		{"aborted before anything was seen", harness.PageView{Event: "abort"}, view{}, quiet},
		{"refused before the network", harness.PageView{Event: "error"}, view{}, quiet},
		{"loaded, events still to come", harness.PageView{Event: "load"}, view{actual: &harness.Exchange{}}, pending},
		{"loaded", harness.PageView{Event: "load"}, view{actual: done}, final},
		{"loaded, preflight unfinished", harness.PageView{Event: "load"}, view{pre: &harness.Exchange{}, actual: done}, pending},
		{"loaded after a redirect still to follow", harness.PageView{Event: "load"}, view{actual: redirected, hop: true}, pending},
		{"a redirect the page read as such", harness.PageView{Event: "load", ResponseType: "opaqueredirect"}, view{actual: redirected, hop: true}, final},
		{"a redirect the page refused", harness.PageView{Event: "error"}, view{actual: redirected, hop: true}, quiet},
		{"blocked, reason still to come", harness.PageView{Event: "error"}, view{actual: done}, pending},
		{"blocked, a warning only", harness.PageView{Event: "error"}, view{actual: done, reasons: warning}, pending},
		{"blocked, with its reason", harness.PageView{Event: "error"}, view{actual: done, reasons: blocked}, final},
		{"the page aborted during a failed preflight", harness.PageView{Event: "error"}, view{pre: failed, actual: canceled, reasons: blocked}, final},
		{"a failed preflight", harness.PageView{Event: "error"}, view{pre: failed, actual: failed, reasons: blocked}, quiet},
		{"a failed preflight and its generic message", harness.PageView{Event: "error"}, view{pre: failed, actual: failed, reasons: append(blocked, generic...)}, final},
		{"a network failure", harness.PageView{Event: "error"}, view{actual: failed}, quiet},
		{"a network failure and the generic message", harness.PageView{Event: "error"}, view{actual: failed, reasons: generic}, final},
		{"timed out", harness.PageView{Event: "timeout"}, view{actual: canceled}, final},
	} {
		if got := judge(tc.page, tc.v); got != tc.want {
			t.Errorf("%s: judge = %d, want %d", tc.name, got, tc.want)
		}
	}
}

package harness

import (
	"net/http"
	"strings"
	"testing"

	"github.com/corslab/corslab/harness/verdict"
	"github.com/corslab/corslab/servers"
)

func TestBadRequestsNameTheField(t *testing.T) {
	cases := []struct {
		req   Request
		field string
		says  string
	}{
		{Request{Method: "GE T"}, "method", "not an HTTP method token"},
		{Request{Headers: []servers.Header{{Name: "X-A", Value: "1\r\nX-B: 2"}}}, "headers", "header injection"},
		{Request{Headers: []servers.Header{{Name: "Bad Name", Value: "1"}}}, "headers", "invalid byte"},
		{Request{API: "websocket"}, "api", "must be"},
		{Request{URL: "ftp://127.0.0.1/"}, "url", "absolute http"},
		{Request{URL: "http://example.com/"}, "url", "not loopback"},
		{Request{URL: "http://10.0.0.1:8080/"}, "url", "not loopback"},
		{Request{Abort: "later"}, "abort", "must be"},
		{Request{Token: "a/b"}, "token", "a token is"},
		{Request{Mode: "no-cors"}, "mode", "only fetch"},
		{Request{Policy: servers.Policy{MaxAge: "soon"}}, "max-age", "not a whole number"},
		{Request{Path: "/x?y=1"}, "path", "no query"},
		{Request{API: Fetch, Mode: "navigate"}, "mode", "same-origin"},
		{Request{API: Fetch, RedirectMode: "never"}, "redirect-mode", "manual"},
		{Request{RedirectMode: "manual"}, "redirect-mode", "only fetch"},
		{Request{API: Fetch, TargetAddressSpace: "private"}, "target-address-space", "loopback"},
		{Request{TargetAddressSpace: "local"}, "target-address-space", "only fetch"},
		{Request{Target: "elsewhere"}, "target", `"app"`},
	}
	for _, c := range cases {
		err := c.req.Validate(false)
		if err == nil || !strings.Contains(err.Error(), `field "`+c.field+`"`) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%+v: %v; want field %s and %q", c.req, err, c.field, c.says)
		}
	}
	if err := (Request{URL: "http://localhost:8080/x"}).Validate(false); err != nil {
		t.Errorf("localhost URL refused: %v", err)
	}
	if err := (Request{URL: "http://example.com/"}).Validate(true); err != nil {
		t.Errorf("remote URL with opt-in refused: %v", err)
	}
}

// A URL that does not parse is an error from Resolve (and RequestURL), not
// a nil pointer: urlFor used to drop url.Parse's error.
func TestResolveReportsABadURL(t *testing.T) {
	for _, u := range []string{"/%zz", "http://[::1"} {
		got, err := Request{URL: u}.Resolve(Bases{API: "http://127.0.0.1:1"}, "t")
		if err == nil || !strings.Contains(err.Error(), `field "url"`) {
			t.Errorf("Resolve(%q) = %q, %v; want an error naming the url field", u, got, err)
		}
	}
	got, err := Request{URL: "/users?page=2"}.Resolve(Bases{API: "http://127.0.0.1:1/"}, "t")
	if err != nil || got != "http://127.0.0.1:1/users?corslab-token=t&page=2" {
		t.Errorf("Resolve(/users?page=2) = %q, %v", got, err)
	}
}

// A coarse reason ("not allowed by Access-Control-Allow-Origin") is narrowed
// by the standard's CORS check on what the server sent, and says so.
func TestACoarseReasonIsNarrowedByTheServersAnswer(t *testing.T) {
	for _, c := range []struct {
		acao []string
		want verdict.Reason
	}{
		{nil, verdict.MissingAllowOriginHeader},
		{[]string{"http://elsewhere.test"}, verdict.AllowOriginMismatch},
		{[]string{"127.0.0.1"}, verdict.InvalidAllowOriginValue},
	} {
		h := http.Header{}
		for _, v := range c.acao {
			h.Add("Access-Control-Allow-Origin", v)
		}
		r := Result{Engine: verdict.WebKit, PageOrigin: "http://app.test:1",
			Browser: BrowserView{Reason: verdict.AllowOriginRejected, EngineReason: "Origin http://app.test:1 is not allowed by Access-Control-Allow-Origin."},
			Server:  ServerView{Recorded: true, Entries: []servers.Entry{{Method: "GET", Status: 200, Response: h}}}}
		r.refine()
		if r.Browser.Reason != c.want || !strings.Contains(r.Browser.Refined, "the server sent") || r.Browser.EngineReason == "" {
			t.Errorf("ACAO %q: reason %s (%s), want %s with a note", c.acao, r.Browser.Reason, r.Browser.Refined, c.want)
		}
	}
}

package lab

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/servers"
)

func TestQueryRoundTrip(t *testing.T) {
	in := harness.Request{API: harness.Fetch, Method: "PUT", Body: "a&b=c",
		Headers:     []servers.Header{{Name: "Content-Type", Value: "application/json"}, {Name: "X-A", Value: "1: 2"}},
		Credentials: true, Mode: "cors", Timeout: 1500 * time.Millisecond, UploadListener: false,
		Policy: servers.Policy{AllowOrigin: []string{servers.Echo, ""}, AllowMethods: []string{"PUT"}, MaxAge: "5",
			Preflight: &servers.Policy{AllowOrigin: []string{"*"}, PreflightStatus: 204}}}
	out, err := ParseQuery(Query(in))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip changed the scenario:\n in  %+v\n out %+v", in, out)
	}
}

func TestParseQueryNamesTheBadParameter(t *testing.T) {
	for q, want := range map[string]string{
		"req.credentials=maybe":     `"req.credentials"`,
		"req.colour=red":            `"req.colour"`,
		"req.method=a&req.method=b": `"req.method"`,
		"max-age=soon":              `"max-age"`,
		"req.api=ajax":              "API",
	} {
		v, _ := parseQueryString(q)
		_, err := ParseQuery(v)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want an error naming %s", q, err, want)
		}
	}
}

func TestCheckRefusesURLs(t *testing.T) {
	err := check(harness.Request{URL: "http://127.0.0.1:1/x"})
	if err == nil || !strings.Contains(err.Error(), "URL") {
		t.Fatalf("a scenario with a URL was accepted: %v", err)
	}
}

func TestOwnOrigin(t *testing.T) {
	const me = "http://127.0.0.1:4000"
	cases := []struct {
		name, method, origin, site, ctype string
		ok                                bool
	}{
		{"same-origin GET", "GET", "", "same-origin", "", true},
		{"same-origin POST", "POST", me, "same-origin", "application/json", true},
		{"other origin", "GET", "http://127.0.0.1:4001", "same-site", "", false},
		{"no Origin, cross-site", "GET", "", "cross-site", "", false},
		{"no Origin, no Sec-Fetch-Site", "GET", "", "", "", false},
		{"form POST from the lab", "POST", me, "same-origin", "text/plain", false},
	}
	for _, c := range cases {
		r := httptest.NewRequest(c.method, me+"/lab/api/presets", nil)
		if c.origin != "" {
			r.Header.Set("Origin", c.origin)
		}
		if c.site != "" {
			r.Header.Set("Sec-Fetch-Site", c.site)
		}
		if c.ctype != "" {
			r.Header.Set("Content-Type", c.ctype)
		}
		if err := ownOrigin(r, me); (err == nil) != c.ok {
			t.Errorf("%s: ownOrigin = %v, want ok=%v", c.name, err, c.ok)
		}
	}
}

func TestServeHTTPBeforeStart(t *testing.T) {
	l := &Lab{}
	w := httptest.NewRecorder()
	l.ServeHTTP(w, httptest.NewRequest("GET", "/lab/api/presets", nil))
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503 while starting", w.Code)
	}
}

func TestReasonFillsTheParameter(t *testing.T) {
	r := harness.Result{PageOrigin: "http://127.0.0.1:1"}
	r.Browser.CorsError, r.Browser.FailedParameter = "AllowOriginMismatch", "http://127.0.0.1:1/"
	got := Reason(r)
	if !strings.Contains(got, "“http://127.0.0.1:1/”") || !strings.Contains(got, "origin http://127.0.0.1:1.") {
		t.Fatalf("Reason = %q", got)
	}
	for name, text := range reasons {
		if strings.Count(text, "{") != strings.Count(text, "}") {
			t.Errorf("%s: unbalanced placeholder in %q", name, text)
		}
	}
}

func TestSnippetQuotesForJavaScript(t *testing.T) {
	s := Snippet(harness.Request{Method: "POST", Body: "a\"b</script>", Headers: []servers.Header{{Name: "NCZ", Value: "x"}}}, "http://x/cors/t")
	for _, want := range []string{`createCORSRequest("POST", "http://x/cors/t")`, `xhr.setRequestHeader("NCZ", "x")`, `xhr.send("a\"b\u003c/script\u003e")`} {
		if !strings.Contains(s, want) {
			t.Errorf("snippet lacks %s:\n%s", want, s)
		}
	}
}

func parseQueryString(q string) (map[string][]string, error) {
	v, err := url.ParseQuery(q)
	return v, err
}

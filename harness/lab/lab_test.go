package lab

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/servers"
)

func TestParseQueryNamesTheBadParameter(t *testing.T) {
	for q, want := range map[string]string{
		"req.credentials=maybe":     `"req.credentials"`,
		"req.colour=red":            `"req.colour"`,
		"req.method=a&req.method=b": `"req.method"`,
		"max-age=soon":              `"max-age"`,
		"req.api=ajax":              `"req.api"`,
	} {
		_, err := parseQuery(q)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want an error naming %s", q, err, want)
		}
	}
}

func TestCheckRefusesURLs(t *testing.T) {
	err := check(harness.Request{URL: "http://127.0.0.1:1/x"})
	if err == nil || !strings.Contains(err.Error(), `field "url"`) {
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
	r.Browser.Reason, r.Browser.FailedParameter = "AllowOriginMismatch", "http://127.0.0.1:1/"
	got := r.Meaning()
	if !strings.Contains(got, "“http://127.0.0.1:1/”") || !strings.Contains(got, "origin http://127.0.0.1:1.") {
		t.Fatalf("Reason = %q", got)
	}
}

// The journal route says when the server's answer was not final in time;
// it used to drop the wait's error and draw what it had as if complete.
func TestTheJournalSaysWhenItIsNotFinal(t *testing.T) {
	j := &servers.Journal{}
	release := make(chan struct{})
	srv := httptest.NewServer(j.Record(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release })))
	defer srv.Close()
	defer close(release)
	done := make(chan struct{})
	go func() {
		defer close(done)
		resp, err := http.Get(srv.URL + "/cors/tok1/x")
		if err == nil {
			resp.Body.Close()
		}
	}()
	if _, err := j.Wait(context.Background(), "tok1", func(es []servers.Entry) bool { return len(es) == 1 }); err != nil {
		t.Fatal(err)
	}
	got := journalOf(context.Background(), j, "tok1")
	if got.Requests != 1 || got.Note == "" {
		t.Fatalf("a journal with an unanswered request: %+v, want its line and a note that it is not final", got)
	}
	if j.Len() != 0 {
		t.Errorf("the journal still holds %d tokens after the route read it", j.Len())
	}
	release <- struct{}{}
	<-done
}

func TestSnippetQuotesForJavaScript(t *testing.T) {
	s := Snippet(harness.Request{Method: "POST", Body: "a\"b</script>", Headers: []servers.Header{{Name: "NCZ", Value: "x"}}}, "http://x/cors/t")
	for _, want := range []string{`createCORSRequest("POST", "http://x/cors/t")`, `xhr.setRequestHeader("NCZ", "x")`, `xhr.send("a\"b\u003c/script\u003e")`} {
		if !strings.Contains(s, want) {
			t.Errorf("snippet lacks %s:\n%s", want, s)
		}
	}
}

package firefox

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/internal/procfs"
	"github.com/corslab/corslab/pages"
	"github.com/corslab/corslab/servers"
)

var echo = []string{servers.Echo}

// A Firefox killed while the server holds its request fails that request
// with harness.ErrBrowserDied, and the next request gets a new Firefox.
func TestABrowserThatDiesFailsItsRequestAndTheNextGetsANewOne(t *testing.T) {
	needFirefox(t)
	t.Parallel() // its Firefox is its own (no ShareBrowser): the kill hits no other test
	env := startEnv(t, harness.Options{WarmSessions: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if r, err := env.Do(ctx, harness.Request{Policy: servers.Policy{AllowOrigin: echo}}); err != nil || !r.Allowed() {
		t.Fatalf("Do before the crash: %v\n%s", err, r)
	}
	token := harness.NewToken()
	pid := firefoxOf(env).pid
	var killed atomic.Int64
	go func() {
		// Kill Firefox once the server holds the request: mid-request, by event.
		_, err := env.Origins.Journal.Wait(ctx, token, func(es []servers.Entry) bool { return len(es) > 0 })
		if err == nil {
			killed.Store(time.Now().UnixNano())
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}()
	r, err := env.Do(ctx, harness.Request{Token: token, Policy: servers.Policy{AllowOrigin: echo, Stall: servers.StallResponse}})
	if !errors.Is(err, harness.ErrBrowserDied) || !strings.Contains(err.Error(), "the browser died") {
		t.Fatalf("Do while Firefox is killed: %v, want ErrBrowserDied\n%s", err, r)
	}
	if took := time.Since(time.Unix(0, killed.Load())); took > 5*time.Second {
		t.Errorf("the request failed %s after the kill", took)
	}
	r, err = env.Do(ctx, harness.Request{Policy: servers.Policy{AllowOrigin: echo}})
	if err != nil || !r.Allowed() {
		t.Fatalf("Do after the crash: %v\n%s", err, r)
	}
	// Replacing the dead Firefox closed what was left of it.
	if !gone(pid, 5*time.Second) {
		t.Errorf("processes of the dead Firefox's group outlived its replacement: %v", procfs.GroupPIDs(pid))
	}
	if env.Deaths() != 1 {
		t.Errorf("Deaths() = %d, want 1", env.Deaths())
	}
}

// Cookies and the preflight cache are shared by the tabs of one session
// (a user context) and not between sessions.
func TestSessionsAreIsolated(t *testing.T) {
	needFirefox(t)
	t.Parallel()
	// Names: Firefox does not reuse a tab's first preflights to an IP-literal host.
	env := startEnv(t, harness.Options{WarmSessions: -1, ShareBrowser: true, Servers: servers.Options{Names: true, TLS: true}})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	a, err := env.NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	a2, err := a.NewTab(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer a2.Close()
	b, err := env.NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	put := harness.Request{Method: "PUT", Token: harness.NewToken(), Policy: servers.Policy{AllowOrigin: echo,
		Preflight: &servers.Policy{AllowOrigin: echo, AllowMethods: []string{"PUT"}, MaxAge: "600"}}}
	for _, step := range []struct {
		name string
		s    *harness.Session
		want int
	}{{"session A", a, 1}, {"session A's second tab", a2, 0}, {"session B", b, 1}} {
		r, err := step.s.Do(ctx, put)
		if err != nil || !r.Allowed() || len(r.Server.Preflights()) != step.want || r.Preflighted() != (step.want == 1) || len(r.Disagreements()) > 0 {
			t.Errorf("%s: %v; want %d preflights\n%s", step.name, err, step.want, r)
		}
	}

	if err := a.SetCookie(ctx, env.Origins.App.URL, "ctxA=1; Path=/"); err != nil {
		t.Fatal(err)
	}
	same := harness.Request{Target: harness.App, Credentials: true}
	for _, step := range []struct {
		name string
		s    *harness.Session
		want []string
	}{{"session A", a, []string{"ctxA"}}, {"session A's second tab", a2, []string{"ctxA"}}, {"session B", b, nil}} {
		r, err := step.s.Do(ctx, same)
		if err != nil || !slices.Equal(r.CookiesSent(), step.want) {
			t.Errorf("%s: %v; cookies %v, want %v\n%s", step.name, err, r.CookiesSent(), step.want, r)
		}
	}
}

// The origins' certificate is the one certificate Firefox trusts beyond its
// own: an HTTPS server with another self-signed certificate is refused.
func TestOnlyTheOriginsCertificateIsTrusted(t *testing.T) {
	needFirefox(t)
	t.Parallel()
	env := startEnv(t, harness.Options{WarmSessions: -1, ShareBrowser: true, Servers: servers.Options{Names: true, TLS: true}})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if !strings.HasPrefix(env.Origins.App.URL, "https://app.test:") {
		t.Fatalf("page origin %s", env.Origins.App.URL)
	}
	r, err := env.Do(ctx, harness.Request{Policy: servers.Policy{AllowOrigin: echo}})
	if err != nil || !r.Allowed() || r.Server.Entries[0].Origin() != env.Origins.App.URL {
		t.Fatalf("a request to the trusted API: %v\n%s", err, r)
	}
	var asked atomic.Int32
	other := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		asked.Add(1)
		w.Header().Set("Access-Control-Allow-Origin", "*")
	}))
	defer other.Close()
	for _, api := range []string{harness.XHR, harness.Fetch} {
		r, err = env.Do(ctx, harness.Request{API: api, URL: other.URL + "/"})
		if err != nil || r.Page.Event != "error" || r.Blocked() || r.Browser.Actual == nil || !r.Browser.Actual.Failed {
			t.Errorf("%s to a server with another self-signed certificate: %v\n%s", api, err, r)
		}
	}
	if n := asked.Load(); n != 0 {
		t.Errorf("the untrusted server answered %d requests", n)
	}
}

// A page that runs as another origin: Firefox answers its document and
// nothing else, and the API sees that Origin.
func TestAPageRunsAsAnotherOrigin(t *testing.T) {
	needFirefox(t)
	t.Parallel()
	env := startEnv(t, harness.Options{WarmSessions: -1, ShareBrowser: true})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const as = "https://app.example.com"
	s, err := env.NewSessionAs(ctx, as)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, err := s.Do(ctx, harness.Request{Policy: servers.Policy{AllowOrigin: []string{as}}})
	if err != nil || !r.Allowed() || len(r.Server.Entries) != 1 || r.Server.Entries[0].Origin() != as || len(r.Disagreements()) > 0 {
		t.Fatalf("request from %s: %v\n%s", as, err, r)
	}
	if got := s.Intercepted(); !slices.Equal(got, []string{as + "/"}) {
		t.Errorf("Intercepted() = %q, want the page document only", got)
	}
	// Its name resolves to loopback, never through DNS.
	if names, err := firefoxOf(env).pref(ctx, "network.dns.localDomains"); err != nil || !slices.Contains(strings.Split(names, ","), "app.example.com") {
		t.Errorf("network.dns.localDomains = %q, %v", names, err)
	}

	// Any other request to the impersonated origin is refused, never sent.
	bc, err := env.Browser().NewContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer bc.Close()
	tb, err := bc.Open(ctx, harness.Page{As: as, HTML: pages.StandaloneHTML()})
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Origin string `json:"origin"`
		Secure bool   `json:"secure"`
		Other  string `json:"other"`
	}
	err = tb.(*tab).eval(ctx, `fetch("/favicon-probe.png").then(() => "sent", () => "failed").then(other => ({origin: location.origin, secure: isSecureContext, other}))`, &page)
	if err != nil || page.Origin != as || !page.Secure || page.Other != "failed" {
		t.Errorf("page %+v, %v", page, err)
	}
	if got := tb.(*tab).Intercepted(); !slices.Equal(got, []string{as + "/", as + "/favicon-probe.png"}) {
		t.Errorf("Intercepted() = %q", got)
	}
	if err := bc.Grant(ctx, as, harness.LoopbackNetwork); !errors.Is(err, harness.ErrUnsupported) {
		t.Errorf("Grant: %v, want ErrUnsupported", err)
	}
}

// A view that is final ends the wait at once: a network failure (no CORS
// reason), an abort, a page timeout, a redirect the page did not follow and
// a request Firefox refused before the network take nowhere near the settle
// time.
func TestFinalViewsDoNotWaitTheSettleTime(t *testing.T) {
	needFirefox(t)
	t.Parallel()
	env := startEnv(t, harness.Options{WarmSessions: -1, ShareBrowser: true})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	redirect := servers.Policy{AllowOrigin: echo, Redirect: &servers.Redirect{Status: 302}}
	for _, tc := range []struct {
		name    string
		req     harness.Request
		event   string
		network bool // a network failure: Firefox's error and its message say so
	}{
		{"the server closes the connection (xhr)", harness.Request{Policy: servers.Policy{AllowOrigin: echo, Stall: servers.StallClose}}, "error", true},
		{"the server closes the connection (fetch)", harness.Request{API: harness.Fetch, Policy: servers.Policy{AllowOrigin: echo, Stall: servers.StallClose}}, "error", true},
		{"the server closes the preflight's connection", harness.Request{Method: "PUT", Policy: servers.Policy{AllowOrigin: echo, Stall: servers.StallClose}}, "error", true},
		{"the page aborts after send", harness.Request{Abort: harness.AbortAfterSend, Policy: servers.Policy{AllowOrigin: echo}}, "abort", false},
		{"the page aborts on headers", harness.Request{Abort: harness.AbortOnHeaders, Policy: servers.Policy{AllowOrigin: echo, Stall: servers.StallHeaders}}, "abort", false},
		{"the page times out", harness.Request{Timeout: 200 * time.Millisecond, Policy: servers.Policy{AllowOrigin: echo, Stall: servers.StallResponse}}, "timeout", false},
		{"a blocked simple request", harness.Request{}, "error", false},
		{"a blocked synchronous request", harness.Request{Sync: true}, "error", false},
		{"a failed preflight", harness.Request{Method: "PUT", Policy: servers.Policy{AllowOrigin: echo}}, "error", false},
		{"fetch's redirect manual", harness.Request{API: harness.Fetch, RedirectMode: "manual", Policy: redirect}, "load", false},
		{"fetch's redirect error", harness.Request{API: harness.Fetch, RedirectMode: "error", Policy: redirect}, "error", false},
		{"fetch's mode same-origin", harness.Request{API: harness.Fetch, Mode: "same-origin", Policy: servers.Policy{AllowOrigin: echo}}, "error", false},
	} {
		r, err := env.Do(ctx, tc.req)
		if err != nil || r.Page.Event != tc.event || len(r.Notes) > 0 || len(r.Disagreements()) > 0 {
			t.Errorf("%s: %v\n%s", tc.name, err, r)
			continue
		}
		if r.Timing.Browser > settle*3/4 {
			t.Errorf("%s: Firefox's view took %s after the page's answer\n%s", tc.name, r.Timing.Browser, r)
		}
		if tc.network && (r.Blocked() || r.Browser.ErrorText == "" || len(r.Browser.Messages) == 0) {
			t.Errorf("%s: a network failure without its error or Firefox's message\n%s", tc.name, r)
		}
	}
}

// A sandboxed page's requests carry Origin: null.
func TestASandboxedPageSendsOriginNull(t *testing.T) {
	needFirefox(t)
	t.Parallel()
	env := startEnv(t, harness.Options{WarmSessions: -1, ShareBrowser: true})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := env.NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sb, err := s.NewSandboxedTab(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	r, err := sb.Do(ctx, harness.Request{API: harness.Fetch, Policy: servers.Policy{AllowOrigin: []string{"null"}}})
	if err != nil || !r.Allowed() || r.Server.Entries[0].Origin() != "null" || len(r.Disagreements()) > 0 {
		t.Fatalf("%v\n%s", err, r)
	}
}

// A tab that visits another page and comes back to a corslab page sends again.
func TestATabThatNavigatesBackSendsAgain(t *testing.T) {
	needFirefox(t)
	t.Parallel()
	env := startEnv(t, harness.Options{WarmSessions: -1, ShareBrowser: true})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	bc, err := env.Browser().NewContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer bc.Close()
	page := env.Origins.App.URL + "/"
	tb, err := bc.Open(ctx, harness.Page{URL: page})
	if err != nil {
		t.Fatal(err)
	}
	defer tb.Close()
	token := harness.NewToken()
	desc := []byte(`{"api":"fetch","method":"GET","headers":[],"url":"` + env.Origins.API.URL + "/cors/" + token + `/?allow-origin=%24origin"}`)
	server := func(context.Context) harness.ServerView {
		return harness.ServerView{Recorded: true, Entries: env.Origins.Journal.Entries(token)}
	}
	if err := tb.Navigate(ctx, env.Origins.API.URL+"/cors/"+token+"/visit"); err != nil {
		t.Fatal(err)
	}
	if _, err := tb.Send(ctx, desc, token, server); err == nil {
		t.Error("Send in a page without cors.js did not fail")
	}
	if err := tb.Navigate(ctx, page); err != nil {
		t.Fatal(err)
	}
	sent, err := tb.Send(ctx, desc, token, server)
	if err != nil || sent.Page.Event != "load" || sent.Browser.Actual == nil || sent.Browser.Actual.Status != 200 || len(sent.Server.Actuals()) != 2 {
		t.Fatalf("Send after navigating back: %v, %+v", err, sent)
	}
	if visit := sent.Server.Actuals()[0]; visit.Header.Get("Sec-Fetch-Mode") != "navigate" {
		t.Errorf("the visit was not a top-level navigation: %v", visit.Header)
	}
}

// Third-party cookies: Firefox's default keeps a cross-site API's own
// cookies from a page's requests; Options.ThirdPartyCookies lets them through.
func TestThirdPartyCookiesAreAllowedOnlyWhenAsked(t *testing.T) {
	needFirefox(t)
	t.Parallel()
	for _, allow := range []bool{false, true} {
		env := startEnv(t, harness.Options{WarmSessions: -1, ShareBrowser: true, ThirdPartyCookies: allow, Servers: servers.Options{Names: true, TLS: true}})
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		s, err := env.NewSession(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := s.SetCookie(ctx, env.Origins.API.URL, "preset=1; SameSite=None; Secure"); err != nil {
			t.Fatal(err)
		}
		r, err := s.Do(ctx, harness.Request{Credentials: true, Policy: servers.Policy{AllowOrigin: echo, AllowCredentials: "true"}})
		if err != nil || !r.Allowed() || slices.Contains(r.CookiesSent(), "preset") != allow {
			t.Errorf("third-party cookies allowed %v: %v; the API received cookies %v\n%s", allow, err, r.CookiesSent(), r)
		}
	}
}

package webkit

import (
	"context"
	"errors"
	"io"
	"log"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/corslab/corslab/harness"
	_ "github.com/corslab/corslab/harness/chromium" // for DoAll with Chromium
	"github.com/corslab/corslab/harness/internal/procfs"
	"github.com/corslab/corslab/harness/verdict"
	"github.com/corslab/corslab/servers"
)

var echo = []string{servers.Echo}

// Sessions are browser contexts: each has its own cookies and preflight
// cache, tabs of one session share them, and a MiniBrowser a closed session
// gave back serves the next session cleared.
func TestContextsIsolateCookiesAndThePreflightCache(t *testing.T) {
	needWebKit(t)
	l := watch(t)
	env := startEnv(t, harness.Options{WarmSessions: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	set := harness.Request{Credentials: true, Policy: servers.Policy{AllowOrigin: echo, AllowCredentials: "true", SetCookie: []string{"k=v; Path=/"}}}
	check := harness.Request{Credentials: true, Policy: servers.Policy{AllowOrigin: echo, AllowCredentials: "true"}}
	put := harness.Request{Method: "PUT", Token: harness.NewToken(), Policy: servers.Policy{AllowOrigin: echo,
		Preflight: &servers.Policy{AllowOrigin: echo, AllowMethods: []string{"PUT"}, MaxAge: "600"}}}
	cached := harness.Request{Token: harness.NewToken(), Policy: servers.Policy{AllowOrigin: echo,
		Headers: []servers.Header{{Name: "Cache-Control", Value: "max-age=600"}}}}
	do := func(s *harness.Session, req harness.Request) harness.Result {
		t.Helper()
		r, err := s.Do(ctx, req)
		if err != nil || !r.Allowed() {
			t.Fatalf("Do: %v\n%s", err, r)
		}
		return r
	}
	// fresh asserts that s holds no cookie and no cached preflight of the others.
	fresh := func(name string, s *harness.Session) {
		t.Helper()
		if r := do(s, check); len(r.CookiesSent()) != 0 {
			t.Errorf("%s sent the cookie another session stored:\n%s", name, r)
		}
		if r := do(s, put); !r.Preflighted() {
			t.Errorf("%s used the preflight another session cached:\n%s", name, r)
		}
		if r := do(s, cached); r.Browser.Actual.FromCache || len(r.Server.Actuals()) != 1 {
			t.Errorf("%s used the response another session cached:\n%s", name, r)
		}
	}

	a, err := env.NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	do(a, set)
	if r := do(a, check); !slices.Contains(r.CookiesSent(), "k") {
		t.Fatalf("the session did not keep its own cookie:\n%s", r)
	}
	if r := do(a, put); !r.Preflighted() {
		t.Fatalf("the first PUT sent no preflight:\n%s", r)
	}
	if r := do(a, put); r.Preflighted() || !r.PreflightFromCache() {
		t.Fatalf("the second PUT did not use the cached preflight:\n%s", r)
	}
	do(a, cached)
	if r := do(a, cached); !r.Browser.Actual.FromCache || len(r.Server.Entries) != 0 {
		t.Fatalf("the second GET of a response with max-age was not answered from the cache:\n%s", r)
	}
	tab, err := a.NewTab(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r := do(tab, check); !slices.Contains(r.CookiesSent(), "k") {
		t.Errorf("a tab of the session did not send its cookie:\n%s", r)
	}
	if r := do(tab, put); r.Preflighted() {
		t.Errorf("a tab of the session did not share its preflight cache:\n%s", r)
	}
	if err := tab.Close(); err != nil {
		t.Fatal(err)
	}

	b, err := env.NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fresh("a second session", b)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	// A MiniBrowser given back is a spare once it is cleared, after its HTTP cache's writes.
	wk := webkitOf(env)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		wk.mu.Lock()
		ready := len(wk.spares)
		wk.mu.Unlock()
		if ready > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no spare MiniBrowser 10 s after two sessions closed")
		}
	}
	l.mu.Lock()
	launched := len(l.pgids)
	l.mu.Unlock()
	c, err := env.NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	l.mu.Lock()
	relaunched := len(l.pgids) > launched
	l.mu.Unlock()
	if relaunched {
		t.Error("a session after two closed ones started a MiniBrowser: the spare was not used")
	}
	fresh("a session on a MiniBrowser another session gave back", c)
	// A cookie stored through the inspector, HttpOnly, as if the API had sent it.
	if err := c.SetCookie(ctx, env.Origins.API.URL+"/cors/x", "sc=1; Path=/; HttpOnly"); err != nil {
		t.Fatal(err)
	}
	if r := do(c, check); !slices.Equal(r.CookiesSent(), []string{"sc"}) {
		t.Errorf("the cookie SetCookie stored was not sent:\n%s", r)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := env.Close(); err != nil {
		t.Fatal(err)
	}
	l.check(t)
}

// A MiniBrowser or a web process killed while a request is in flight fails
// that request with harness.ErrBrowserDied, and the next one gets a new browser.
func TestCrashFailsTheRequestInFlight(t *testing.T) {
	needWebKit(t)
	for _, victim := range []string{"MiniBrowser", "WebKitWebProces"} {
		t.Run(victim, func(t *testing.T) {
			l := watch(t)
			env := startEnv(t, harness.Options{WarmSessions: -1})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			allowed := harness.Request{Policy: servers.Policy{AllowOrigin: echo}}
			if r, err := env.Do(ctx, allowed); err != nil || !r.Allowed() {
				t.Fatalf("Do: %v\n%s", err, r)
			}
			b := webkitOf(env)
			token := harness.NewToken()
			go func() {
				// Kill once the server holds the request: it is in flight.
				_, err := env.Origins.Journal.Wait(ctx, token, func(es []servers.Entry) bool { return len(es) > 0 })
				if err != nil {
					return
				}
				b.mu.Lock()
				defer b.mu.Unlock()
				for c := range b.contexts {
					for _, pid := range procfs.GroupPIDs(c.proc.pid()) {
						if processName(pid) == victim {
							_ = syscall.Kill(pid, syscall.SIGKILL)
						}
					}
				}
			}()
			t0 := time.Now()
			r, err := env.Do(ctx, harness.Request{Token: token, Policy: servers.Policy{AllowOrigin: echo, Stall: servers.StallResponse}})
			if !errors.Is(err, harness.ErrBrowserDied) {
				t.Fatalf("Do while %s is killed: %v, want ErrBrowserDied\n%s", victim, err, r)
			}
			if took := time.Since(t0); took > 5*time.Second {
				t.Errorf("the error took %v", took)
			}
			if alive(b) {
				t.Error("the browser's Done is open after the crash")
			}
			if r, err := env.Do(ctx, allowed); err != nil || !r.Allowed() {
				t.Fatalf("Do after the crash: %v\n%s", err, r)
			}
			if env.Deaths() != 1 {
				t.Errorf("Deaths() = %d, want 1", env.Deaths())
			}
			if err := env.Close(); err != nil {
				t.Error(err)
			}
			l.check(t)
		})
	}
}

// A session that impersonates a page origin: WebKit answers the document
// and refuses every other URL of that origin; the API sees the Origin.
func TestImpersonationAnswersOnlyTheDocument(t *testing.T) {
	needWebKit(t)
	env := startEnv(t, harness.Options{Servers: servers.Options{Names: true, TLS: true}, WarmSessions: -1, AllowRemoteTargets: true})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const origin = "https://app.example.com"
	s, err := env.NewSessionAs(ctx, origin)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, api := range []string{harness.XHR, harness.Fetch} {
		r, err := s.Do(ctx, harness.Request{API: api, Policy: servers.Policy{AllowOrigin: echo}})
		if err != nil || !r.Allowed() || len(r.Server.Entries) != 1 || r.Server.Entries[0].Origin() != origin || len(r.Disagreements()) > 0 {
			t.Fatalf("%s from %s: %v\n%s", api, origin, err, r)
		}
	}
	if got := s.Intercepted(); !slices.Equal(got, []string{origin + "/"}) {
		t.Errorf("Intercepted() = %v, want only the document", got)
	}
	r, err := s.Do(ctx, harness.Request{API: harness.Fetch, URL: origin + "/other"})
	if err != nil || r.Page.Event != "error" || r.Blocked() {
		t.Errorf("another URL of the impersonated origin: %v\n%s", err, r)
	}
	if got := s.Intercepted(); len(got) != 2 || !strings.HasPrefix(got[1], origin+"/other") {
		t.Errorf("Intercepted() = %v, want the document and the refused URL", got)
	}
	if refused := webkitOf(env).guard.Refused(); len(refused) > 0 {
		t.Errorf("the egress guard saw %v: the refused URL left the tab", refused)
	}
}

// An https page may not call an http API: WebKit blocks it as mixed content
// before the network (not a CORS block), also for a loopback API.
func TestImpersonatedHTTPSPageToAnHTTPAPIIsMixedContent(t *testing.T) {
	needWebKit(t)
	env := startEnv(t, harness.Options{WarmSessions: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for origin, mixed := range map[string]bool{"http://app.example.com": false, "https://app.example.com": true} {
		s, err := env.NewSessionAs(ctx, origin)
		if err != nil {
			t.Fatal(err)
		}
		r, err := s.Do(ctx, harness.Request{Policy: servers.Policy{AllowOrigin: echo}})
		s.Close()
		switch {
		case err != nil:
			t.Fatalf("%s: %v", origin, err)
		case !mixed && (!r.Allowed() || r.Server.Entries[0].Origin() != origin):
			t.Errorf("%s to the http API:\n%s", origin, r)
		case mixed && (r.Page.Event != "error" || r.Blocked() || len(r.Server.Entries) != 0 || !strings.Contains(r.Browser.ErrorText, "insecure content")):
			t.Errorf("%s to the http API, want it blocked as mixed content before the network:\n%s", origin, r)
		}
	}
}

// The origins' names and their one certificate: the HTTPS names work, and
// a server with another self-signed certificate is refused.
func TestTheOneCertificateIsTrusted(t *testing.T) {
	needWebKit(t)
	env := startEnv(t, harness.Options{Servers: servers.Options{Names: true, TLS: true}, WarmSessions: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := env.Do(ctx, harness.Request{Policy: servers.Policy{AllowOrigin: echo}})
	if err != nil || !r.Allowed() || len(r.Server.Entries) != 1 {
		t.Fatalf("https://app.test to https://api.test: %v\n%s", err, r)
	}
	if e := r.Server.Entries[0]; !strings.HasPrefix(e.Host, "api.test:") || e.Origin() != env.Origins.App.URL || !strings.HasPrefix(env.Origins.App.URL, "https://app.test:") {
		t.Errorf("the API saw Host %q and Origin %q (page %s)", e.Host, e.Origin(), env.Origins.App.URL)
	}
	// The other server logs the handshake WebKit breaks off.
	log.SetOutput(io.Discard)
	defer log.SetOutput(os.Stderr)
	other, err := servers.Start(servers.Options{Names: true, TLS: true}) // its own self-signed certificate
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	token := harness.NewToken()
	r, err = env.Do(ctx, harness.Request{Token: token, URL: other.API.URL + "/cors/" + token + "?allow-origin=%24origin"})
	if err != nil || r.Page.Event != "error" || r.Blocked() || r.Browser.Actual == nil || !strings.Contains(r.Browser.ErrorText, "TLS") {
		t.Errorf("a server with another certificate: %v\n%s", err, r)
	}
	if es := other.Journal.Entries(token); len(es) != 0 {
		t.Errorf("the server with another certificate received %d requests", len(es))
	}
}

// A request that would leave this machine meets the egress guard and fails
// as a network error: the guard answers no HTTP response a page could take
// for the server's.
func TestTheGuardRefusesTrafficOffThisMachine(t *testing.T) {
	needWebKit(t)
	env := startEnv(t, harness.Options{WarmSessions: -1, AllowRemoteTargets: true})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, u := range []string{"http://example.com/x", "https://example.com/x"} {
		r, err := env.Do(ctx, harness.Request{API: harness.Fetch, URL: u})
		if err != nil || r.Page.Event != "error" || r.Blocked() {
			t.Errorf("%s: %v\n%s", u, err, r)
		}
	}
	refused := webkitOf(env).guard.Refused()
	if len(refused) != 2 || !strings.HasPrefix(refused[0], "GET http://example.com/x") || refused[1] != "CONNECT example.com:443" {
		t.Errorf("the guard refused %q", refused)
	}
}

// DoAll runs a request in WebKit and Chromium at once; both tell one story.
func TestDoAllWithChromium(t *testing.T) {
	needWebKit(t)
	env := startEnv(t, harness.Options{Engines: []verdict.Engine{verdict.WebKit, verdict.Chromium}, WarmSessions: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, req := range []harness.Request{
		{Policy: servers.Policy{AllowOrigin: echo}},
		{API: harness.Fetch, Policy: servers.Policy{AllowOrigin: []string{"http://127.0.0.1:1"}}},
	} {
		rs, err := env.DoAll(ctx, req)
		if err != nil || len(rs) != 2 || len(rs.Disagreements()) > 0 {
			t.Fatalf("DoAll: %v\n%s", err, rs)
		}
		if w, ok := rs.In(verdict.WebKit); !ok || w.Engine != verdict.WebKit || len(w.Disagreements()) > 0 {
			t.Errorf("WebKit's result:\n%s", w)
		}
	}
}

// Cross-site (https://app.test → https://api.test), a SameSite=None; Secure
// cookie the API sets on a credentialed response is stored only when
// Options.ThirdPartyCookies lifts WebKit's default (no third-party cookies).
func TestThirdPartyCookies(t *testing.T) {
	needWebKit(t)
	for _, allowed := range []bool{false, true} {
		env := startEnv(t, harness.Options{Servers: servers.Options{Names: true, TLS: true}, ThirdPartyCookies: allowed, WarmSessions: -1})
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		s, err := env.NewSession(ctx)
		if err != nil {
			t.Fatal(err)
		}
		policy := servers.Policy{AllowOrigin: echo, AllowCredentials: "true"}
		set := policy
		set.SetCookie = []string{"tp=1; Path=/; SameSite=None; Secure"}
		for i, p := range []servers.Policy{set, policy} {
			r, err := s.Do(ctx, harness.Request{Credentials: true, Policy: p})
			if err != nil || !r.Allowed() {
				t.Fatalf("third-party cookies allowed %v, request %d: %v\n%s", allowed, i+1, err, r)
			}
			if sent := slices.Contains(r.CookiesSent(), "tp"); i == 1 && sent != allowed {
				t.Errorf("third-party cookies allowed %v: the cookie was sent: %v\n%s", allowed, sent, r)
			}
		}
		s.Close()
		cancel()
		if err := env.Close(); err != nil {
			t.Error(err)
		}
	}
}

// Requests that end in unusual ways end promptly, with no note that
// WebKit's events were incomplete, and a CORS reason only for a CORS block.
func TestUnusualEndsArePrompt(t *testing.T) {
	needWebKit(t)
	env := startEnv(t, harness.Options{WarmSessions: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	allow := servers.Policy{AllowOrigin: echo}
	redirect := servers.Policy{AllowOrigin: echo, Redirect: &servers.Redirect{Status: 302, To: env.Origins.Other.URL, Then: &allow}}
	for _, c := range []struct {
		name    string
		req     harness.Request
		outcome verdict.Outcome
		reason  verdict.Reason
	}{
		// A synchronous XHR gets no security console message.
		{"a blocked synchronous XHR", harness.Request{Sync: true}, verdict.Blocked, verdict.MissingAllowOriginHeader},
		{"an allowed synchronous XHR", harness.Request{Sync: true, Policy: allow}, verdict.Allowed, ""},
		// WebKit words it as an access-control failure; it is the page's redirect mode.
		{`fetch with redirect "error" meets a redirect`, harness.Request{API: harness.Fetch, RedirectMode: "error", Policy: redirect}, verdict.Failed, ""},
		// Refused before the network, with no exchange at all.
		{"a restricted port", harness.Request{URL: "http://127.0.0.1:9/x"}, verdict.Failed, ""},
		{`fetch mode "same-origin" to another origin`, harness.Request{API: harness.Fetch, Mode: "same-origin", Policy: allow}, verdict.Failed, ""},
		{"an abort right after send", harness.Request{Abort: harness.AbortAfterSend, Policy: allow}, verdict.Aborted, ""},
		{"a server that closes the connection", harness.Request{Policy: servers.Policy{AllowOrigin: echo, Stall: servers.StallClose}}, verdict.Failed, ""},
	} {
		t0 := time.Now()
		r, err := env.Do(ctx, c.req)
		took := time.Since(t0)
		if v := r.Verdict(); err != nil || v.Outcome != c.outcome || v.Reason != c.reason || len(r.Notes) > 0 || len(r.Disagreements()) > 0 || took > 1500*time.Millisecond {
			t.Errorf("%s: %v, took %v; want %s %s, no notes:\n%s", c.name, err, took, c.outcome, c.reason, r)
		}
	}
}

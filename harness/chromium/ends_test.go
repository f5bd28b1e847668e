package chromium

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/servers"
)

func TestAServerThatNeverAnswersEndsAsATimeoutInThePage(t *testing.T) {
	t.Parallel() // most of its time is waiting
	env := startEnv(t, harness.Options{WarmSessions: -1, ShareBrowser: true})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	start := time.Now()
	r, err := env.Do(ctx, harness.Request{Policy: servers.Policy{AllowOrigin: []string{servers.Echo}, Stall: servers.StallResponse}})
	if err != nil {
		t.Fatalf("Do: %v\n%s", err, r)
	}
	if r.Page.Event != "timeout" || len(r.Server.Actuals()) != 1 || r.Server.Actuals()[0].Status != -1 {
		t.Fatalf("want the page to time out and the server to see the client leave:\n%s", r)
	}
	if took := time.Since(start); took > 4*time.Second {
		t.Errorf("took %s, more than the context's 4 s", took)
	}
}

func TestABrowserThatDiesFailsItsRequestAndTheNextGetsANewOne(t *testing.T) {
	t.Parallel() // its Chrome is its own (no ShareBrowser): the kill hits no other test
	env := startEnv(t, harness.Options{WarmSessions: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	token := harness.NewToken()
	go func() {
		// Kill Chrome once the server holds the request: mid-request, by event.
		_, err := env.Origins.Journal.Wait(ctx, token, func(es []servers.Entry) bool { return len(es) > 0 })
		if err == nil {
			_ = syscall.Kill(-pidOf(env), syscall.SIGKILL)
		}
	}()
	r, err := env.Do(ctx, harness.Request{Token: token, Policy: servers.Policy{AllowOrigin: []string{servers.Echo}, Stall: servers.StallResponse}})
	if !errors.Is(err, harness.ErrBrowserDied) || !strings.Contains(err.Error(), "the browser died") {
		t.Fatalf("Do while Chrome is killed: %v, want ErrBrowserDied\n%s", err, r)
	}
	r, err = env.Do(ctx, harness.Request{Policy: servers.Policy{AllowOrigin: []string{servers.Echo}}})
	if err != nil || !r.Allowed() {
		t.Fatalf("Do after the crash: %v\n%s", err, r)
	}
	if env.Deaths() != 1 {
		t.Errorf("Deaths() = %d, want 1", env.Deaths())
	}
}

func TestWarmSessionsAreFreshContexts(t *testing.T) {
	t.Parallel()
	env := startEnv(t, harness.Options{WarmSessions: 2, ShareBrowser: true})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	set := harness.Request{Credentials: true, Policy: servers.Policy{AllowOrigin: []string{servers.Echo}, AllowCredentials: "true", SetCookie: []string{"k=v; Path=/"}}}
	for i := range 4 {
		s, err := env.NewSession(ctx)
		if err != nil {
			t.Fatal(err)
		}
		r, err := s.Do(ctx, set)
		s.Close()
		if err != nil || !r.Allowed() || len(r.CookiesSent()) != 0 {
			t.Fatalf("session %d saw a cookie another session set (Path=/), or failed: %v\n%s", i, err, r)
		}
	}
}

// TestAttachToARemoteChrome starts a separate Chromium with a DevTools port on
// loopback and runs requests through it, as a CI job would with a browser service.
func TestAttachToARemoteChrome(t *testing.T) {
	t.Parallel()
	if _, err := Find(""); err != nil {
		t.Skip(err)
	}
	sctx, scancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer scancel()
	rc, err := StartRemote(sctx, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := rc.Close(); err != nil {
			t.Error(err)
		}
	})
	wsURL := rc.URL
	env := startEnv(t, harness.Options{RemoteURL: wsURL})
	if !strings.Contains(env.Version(), "attached") {
		t.Errorf("version %q", env.Version())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ok, err := env.Do(ctx, harness.Request{Policy: servers.Policy{AllowOrigin: []string{servers.Echo}}})
	if err != nil || !ok.Allowed() {
		t.Fatalf("allowed request through the remote Chrome: %v\n%s", err, ok)
	}
	bad, err := env.Do(ctx, harness.Request{})
	if err != nil || bad.Browser.Reason != "MissingAllowOriginHeader" {
		t.Fatalf("blocked request through the remote Chrome: %v\n%s", err, bad)
	}
	if err := env.Close(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(rc.cmd.Process.Pid, 0); err != nil {
		t.Errorf("closing the harness.Env stopped the remote Chrome: %v", err)
	}
}

package chromium

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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
	path, err := Find("")
	if err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	cmd := exec.Command(path, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
		"--disable-quic", "--disable-component-update", "--disable-sync", "--remote-debugging-address=127.0.0.1",
		"--remote-debugging-port=0", "--user-data-dir="+dir, "about:blank")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	// Its singleton folders go where the test removes them: the kill below
	// leaves them behind. A short name: they hold a unix socket (108-byte paths).
	tmp, err := os.MkdirTemp("", "rc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(tmp) })
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	// A SIGKILLed Chrome leaves its singleton folder in $TMPDIR: remove the
	// ones that appear while it runs, so `make leftovers` finds nothing.
	singletons := filepath.Join(os.TempDir(), "org.chromium.Chromium.*")
	before, _ := filepath.Glob(singletons)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		after, _ := filepath.Glob(singletons)
		for _, d := range after {
			if !slices.Contains(before, d) {
				_ = os.RemoveAll(d)
			}
		}
	})
	// Chrome prints "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/ID" when ready.
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if _, ws, ok := strings.Cut(sc.Text(), "DevTools listening on "); ok {
				found <- strings.TrimSpace(ws)
				break
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	var wsURL string
	select {
	case wsURL = <-found:
	case <-time.After(15 * time.Second):
		t.Fatal("the remote Chrome announced no DevTools URL in 15 s")
	}
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
	if err := syscall.Kill(cmd.Process.Pid, 0); err != nil {
		t.Errorf("closing the harness.Env stopped the remote Chrome: %v", err)
	}
}

package chromium

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/servers"
)

// Envs that set ShareBrowser share one Chrome and keep their own origins and
// browser contexts; the last Close closes it; a crash is survived by all.
func TestEnvsShareABrowserUntilTheLastCloses(t *testing.T) {
	t.Parallel()
	// A flag no other test uses: this Chrome is shared by these two Envs only.
	flags := map[string]any{"lang": "en-US"}
	a := startEnv(t, harness.Options{ShareBrowser: true, ChromeFlags: flags, WarmSessions: -1})
	b := startEnv(t, harness.Options{ShareBrowser: true, ChromeFlags: flags, WarmSessions: -1})
	if a.Browser() != b.Browser() {
		t.Fatal("two Envs with ShareBrowser and the same flags launched two Chromes")
	}
	// Without ShareBrowser an harness.Env has its own: TestABrowserThatDies… kills
	// its Chrome while the other tests run with the same flags.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	allowed := harness.Request{Policy: servers.Policy{AllowOrigin: []string{servers.Echo}}}
	for _, e := range []*harness.Env{a, b} {
		r, err := e.Do(ctx, allowed)
		if err != nil || !r.Allowed() || len(r.Server.Entries) != 1 {
			t.Fatalf("a request through a shared Chrome: %v\n%s", err, r)
		}
	}

	// A crash: both Envs go on, in one new Chrome.
	_ = syscall.Kill(-pidOf(a), syscall.SIGKILL)
	deadline := time.Now().Add(10 * time.Second)
	for alive(a.Browser()) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	for _, e := range []*harness.Env{a, b} {
		r, err := e.Do(ctx, allowed)
		if err != nil || !r.Allowed() {
			t.Fatalf("a request after the shared Chrome died: %v\n%s", err, r)
		}
	}
	if a.Browser() != b.Browser() || a.Deaths() != 1 || b.Deaths() != 1 {
		t.Errorf("after the crash: same browser %v, deaths %d and %d, want true, 1, 1",
			a.Browser() == b.Browser(), a.Deaths(), b.Deaths())
	}

	// The first Close leaves the Chrome to the other Env; the last closes it.
	shared := a.Browser()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if !alive(shared) {
		t.Fatal("closing one of two Envs closed the Chrome they share")
	}
	if r, err := b.Do(ctx, allowed); err != nil || !r.Allowed() {
		t.Fatalf("the other harness.Env after the first closed: %v\n%s", err, r)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if alive(shared) {
		t.Error("the last Close left the shared Chrome running")
	}
}

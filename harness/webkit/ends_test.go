package webkit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/internal/procfs"
	"github.com/corslab/corslab/servers"
)

// leftovers records what the package starts, to prove it all ends. Tests
// that use it do not run in parallel: the hook sees every launch.
type leftovers struct {
	mu       sync.Mutex
	pgids    []int
	displays []int
}

var hookMu sync.Mutex

func watch(t *testing.T) *leftovers {
	t.Helper()
	hookMu.Lock()
	l := &leftovers{}
	onStart = func(pgid, display int) {
		l.mu.Lock()
		defer l.mu.Unlock()
		if display >= 0 {
			l.displays = append(l.displays, display)
		} else {
			l.pgids = append(l.pgids, pgid)
		}
	}
	t.Cleanup(func() {
		onStart = nil
		hookMu.Unlock()
	})
	return l
}

// check fails t for any process group, X socket or lock, or temporary folder left.
func (l *leftovers) check(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for _, g := range l.pgids {
		for groupAlive(g) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if groupAlive(g) {
			t.Errorf("process group %d is still alive: %v", g, procfs.GroupPIDs(g))
		}
	}
	for _, d := range l.displays {
		for _, f := range []string{fmt.Sprintf("/tmp/.X11-unix/X%d", d), fmt.Sprintf("/tmp/.X%d-lock", d)} {
			if _, err := os.Stat(f); err == nil && !ownedByOther(d, l.pgids) {
				t.Errorf("%s is left", f)
			}
		}
	}
	if dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), tmpPrefix+strconv.Itoa(os.Getpid())+"-*")); len(dirs) > 0 {
		t.Errorf("temporary folders left: %v", dirs)
	}
}

// ownedByOther reports whether display d's lock names a live process that
// is not one we started (another X server took the number since).
func ownedByOther(d int, ours []int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/tmp/.X%d-lock", d))
	if err != nil {
		return false
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	for _, g := range ours {
		if g == pid {
			return false
		}
	}
	return pid > 0 && syscall.Kill(pid, 0) == nil
}

func launchEngine(ctx context.Context, cfg harness.LaunchConfig) (*browser, error) {
	b, err := Engine{}.Launch(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return b.(*browser), nil
}

func TestLaunchOpenSendClose(t *testing.T) {
	needWebKit(t)
	l := watch(t)
	o, err := servers.Start(servers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := launchEngine(ctx, harness.LaunchConfig{Addr: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.Version(), "WebKitGTK ") {
		t.Errorf("Version() = %q", b.Version())
	}
	bc, err := b.NewContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tab, err := bc.Open(ctx, harness.Page{URL: o.App.URL + "/"})
	if err != nil {
		t.Fatal(err)
	}
	token := harness.NewToken()
	desc := `{"api":"xhr","method":"GET","url":"` + o.API.URL + "/cors/" + token + `?allow-origin=%24origin","headers":[],"body":null,"credentials":false}`
	calls := 0
	sent, err := tab.Send(ctx, []byte(desc), token, func(context.Context) harness.ServerView {
		calls++
		return harness.ServerView{Recorded: true, Entries: o.Journal.Entries(token)}
	})
	if err != nil || sent.Page.Event != "load" || sent.Browser.Actual == nil || sent.Browser.Actual.Status != 200 || calls != 1 {
		t.Errorf("Send = %+v, %v (server called %d times)", sent, err, calls)
	}
	if m := b.Memory(); m < 50<<20 {
		t.Errorf("Memory() = %d", m)
	}
	if err := bc.Grant(ctx, o.App.URL, "geolocation"); !errors.Is(err, harness.ErrUnsupported) {
		t.Errorf("Grant = %v, want ErrUnsupported", err)
	}
	if err := b.Close(); err != nil {
		t.Error(err)
	}
	if alive(b) || b.Err() == nil {
		t.Error("Done is open (or Err nil) after Close")
	}
	l.check(t)
}

func TestLaunchCanceledLeavesNothing(t *testing.T) {
	needWebKit(t)
	l := watch(t)
	for _, d := range []time.Duration{time.Millisecond, 60 * time.Millisecond, 250 * time.Millisecond, 450 * time.Millisecond} {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		b, err := launchEngine(ctx, harness.LaunchConfig{})
		cancel()
		if err == nil {
			// Fast enough: then Close must clean up.
			_ = b.Close()
			continue
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("after %v: %v; want a deadline error", d, err)
		}
	}
	l.check(t)
}

func TestBadConfigLeavesNothing(t *testing.T) {
	l := watch(t)
	ctx := context.Background()
	for _, c := range []struct {
		cfg  harness.LaunchConfig
		want string
	}{
		{harness.LaunchConfig{Names: []string{"app.test"}, Addr: "10.0.0.1"}, "loopback"},
		{harness.LaunchConfig{Names: []string{"*.test"}, Addr: "127.0.0.1"}, "no wildcards"},
		{harness.LaunchConfig{Path: "/nonexistent/MiniBrowser"}, "/nonexistent/MiniBrowser"},
		{harness.LaunchConfig{Path: "/bin/false"}, "MiniBrowser exited during launch"},
		{harness.LaunchConfig{RemoteURL: "ws://127.0.0.1:9222"}, "Chromium only"},
	} {
		if b, err := launchEngine(ctx, c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Launch(%+v) = %v; want an error with %q", c.cfg, err, c.want)
			if b != nil {
				_ = b.Close()
			}
		}
	}
	l.check(t)
}

func TestMissingMiniBrowserSaysHowToInstallIt(t *testing.T) {
	t.Setenv(EnvPath, "")
	_, err := findMiniBrowser("/nonexistent/MiniBrowser")
	if err == nil || !strings.Contains(err.Error(), "LaunchConfig.Path") {
		t.Errorf("an explicit missing path: %v", err)
	}
	t.Setenv(EnvPath, "/nonexistent/MiniBrowser")
	if _, err := findMiniBrowser(""); err == nil || !strings.Contains(err.Error(), "$"+EnvPath) {
		t.Errorf("a missing $%s: %v", EnvPath, err)
	}
	// The message for a machine without WebKitGTK (the glob finds nothing there).
	t.Setenv(EnvPath, "")
	if p, err := findMiniBrowser(""); err == nil {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("found %s, which does not exist", p)
		}
	} else if !strings.Contains(err.Error(), xvfbInstall) || !strings.Contains(err.Error(), EnvPath) {
		t.Errorf("the error does not say how to install it: %v", err)
	}
}

func TestPanicWithDeferredCloseLeavesNothing(t *testing.T) {
	needWebKit(t)
	l := watch(t)
	func() {
		defer func() { _ = recover() }()
		b, err := launchEngine(context.Background(), harness.LaunchConfig{})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		panic("boom")
	}()
	l.check(t)
}

// TestHardDeath launches in a child process that dies of a panic without
// Close: its MiniBrowser and Xvfb die with it (parent-death signals; Xvfb
// gets SIGTERM, so it removes its socket and lock), and the next launch
// removes its temporary folder.
func TestHardDeath(t *testing.T) {
	needWebKit(t)
	if os.Getenv("WEBKIT_TEST_CHILD") == "1" {
		b, err := launchEngine(context.Background(), harness.LaunchConfig{})
		if err != nil {
			fmt.Println("ERR", err)
			os.Exit(3)
		}
		var mb int
		for c := range b.contexts {
			mb = c.proc.pid()
		}
		fmt.Printf("PGIDS %d %d DISPLAY %d TMP %s\n", mb, b.display.proc.pid(), b.display.num, b.tmp)
		go panic("hard death")
		time.Sleep(time.Minute)
		return
	}
	l := watch(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHardDeath$", "-test.v")
	cmd.Env = append(os.Environ(), "WEBKIT_TEST_CHILD=1")
	out, _ := cmd.CombinedOutput()
	var mb, xv, disp int
	var tmp string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "PGIDS") {
			_, _ = fmt.Sscanf(line, "PGIDS %d %d DISPLAY %d TMP %s", &mb, &xv, &disp, &tmp)
		}
	}
	if mb == 0 {
		t.Fatalf("the child did not launch:\n%s", out)
	}
	l.mu.Lock()
	l.pgids = append(l.pgids, mb, xv)
	l.displays = append(l.displays, disp)
	l.mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for (groupAlive(mb) || groupAlive(xv)) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := os.Stat(tmp); err != nil {
		t.Errorf("the dead child's folder %s: %v (expected it until the next launch)", tmp, err)
	}
	sweepStale()
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("sweepStale left %s: %v", tmp, err)
	}
	l.check(t)
}

// Without a private mount namespace the origins' names and certificate
// cannot reach MiniBrowser: the launch says what is missing and what works
// without it, and plain-HTTP origins on 127.0.0.1 still launch.
func TestWithoutAMountNamespace(t *testing.T) {
	needWebKit(t)
	l := watch(t)
	dir := t.TempDir()
	fake := "#!/bin/sh\necho 'unshare: unshare failed: Operation not permitted' >&2\nexit 1\n"
	if err := os.WriteFile(filepath.Join(dir, "unshare"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := launchEngine(ctx, harness.LaunchConfig{Names: []string{"app.test", "api.test"}, Addr: "127.0.0.1", Certificate: []byte{1}})
	if err == nil || !strings.Contains(err.Error(), "Operation not permitted") || !strings.Contains(err.Error(), "app.test, api.test") ||
		!strings.Contains(err.Error(), "plain-HTTP origins on 127.0.0.1") {
		t.Errorf("a launch with names and a certificate and no mount namespace: %v", err)
	}
	b, err := launchEngine(ctx, harness.LaunchConfig{Addr: "127.0.0.1"})
	if err != nil {
		t.Fatalf("a launch for plain-HTTP origins on 127.0.0.1 needs no mount namespace: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Error(err)
	}
	l.check(t)
}

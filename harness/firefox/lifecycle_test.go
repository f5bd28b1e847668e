package firefox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/internal/procfs"
)

// The lifecycle tests launch Firefox through the package's own launch, each
// with its own parent folder, so what is left behind is counted exactly.

// mustFind returns the Firefox binary; a missing one fails the test.
func mustFind(t *testing.T) string {
	t.Helper()
	path, err := Find("")
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// launchIn launches Firefox with its temp folder under parent.
func launchIn(t *testing.T, ctx context.Context, parent, path string) (*browser, error) {
	t.Helper()
	if path == "" {
		path = mustFind(t)
	}
	return launch(ctx, config{path: path, tempDir: parent})
}

// wrapper writes a script that records Firefox's pid (its process group) in
// dir/pid and execs the real binary, so a test knows the group of a Firefox
// whose launch failed.
func wrapper(t *testing.T, dir string) (script, pidFile string) {
	t.Helper()
	script, pidFile = filepath.Join(dir, "firefox-wrapper"), filepath.Join(dir, "pid")
	body := fmt.Sprintf("#!/bin/sh\necho $$ > %s\nexec %s \"$@\"\n", pidFile, mustFind(t))
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return script, pidFile
}

// leftovers counts the corslab-firefox folders under parent.
func leftovers(t *testing.T, parent string) int {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(parent, tempPrefix+"*"))
	if err != nil {
		t.Fatal(err)
	}
	return len(m)
}

// processesWith counts the live processes whose command line mentions s.
func processesWith(s string) int {
	entries, _ := os.ReadDir("/proc")
	n := 0
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		cmd, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(cmd), s) && procfs.Alive(atoi(e.Name())) {
			n++
		}
	}
	return n
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// gone waits up to limit for group pgid to have no live process.
func gone(pgid int, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if len(procfs.GroupPIDs(pgid)) == 0 {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// A launch that ends mid-start (its ctx cancelled) leaves no process and no folder.
func TestALaunchCancelledMidStartLeavesNothing(t *testing.T) {
	needFirefox(t)
	t.Parallel()
	for _, after := range []time.Duration{50 * time.Millisecond, 400 * time.Millisecond, 1200 * time.Millisecond} {
		t.Run(after.String(), func(t *testing.T) {
			parent := t.TempDir()
			script, pidFile := wrapper(t, parent)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			time.AfterFunc(after, cancel)
			b, err := launchIn(t, ctx, parent, script)
			if err == nil {
				// Launched before the cancel: Close must still clean up.
				pid := b.pid
				if err := b.Close(); err != nil {
					t.Fatal(err)
				}
				if !gone(pid, time.Second) {
					t.Errorf("group %d outlived Close", pid)
				}
				return
			}
			if !errors.Is(err, context.Canceled) {
				t.Errorf("launch error %v does not wrap context.Canceled", err)
			}
			if data, rerr := os.ReadFile(pidFile); rerr == nil {
				pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
				if !gone(pid, 2*time.Second) {
					t.Errorf("processes of group %d outlived the failed launch: %v", pid, procfs.GroupPIDs(pid))
				}
			}
			if n := leftovers(t, parent); n != 0 {
				t.Errorf("%d temp folders outlived the failed launch", n)
			}
			if n := processesWith(parent); n != 0 {
				t.Errorf("%d processes still name %s", n, parent)
			}
		})
	}
}

func TestLaunchErrorsSayWhatToDoAndLeaveNothing(t *testing.T) {
	needFirefox(t)
	parent := t.TempDir()
	t.Setenv("TMPDIR", parent)
	ctx := context.Background()
	e := Engine{}
	_, err := e.Launch(ctx, harness.LaunchConfig{Path: "/nonexistent/firefox"})
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/firefox") || !strings.Contains(err.Error(), FirefoxEnv) {
		t.Errorf("missing binary: %v", err)
	}
	t.Setenv(FirefoxEnv, "")
	t.Setenv("PATH", t.TempDir())
	_, err = e.Launch(ctx, harness.LaunchConfig{})
	if err == nil || !strings.Contains(err.Error(), "apt-get install -y --no-install-recommends firefox-esr") || !strings.Contains(err.Error(), FirefoxEnv) {
		t.Errorf("no firefox on PATH: %v", err)
	}
	// A binary that exits at once: the error says so, with its last words.
	script := filepath.Join(parent, "exits")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho broken >&2\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err = e.Launch(ctx, harness.LaunchConfig{Path: script})
	if !errors.Is(err, harness.ErrBrowserDied) || !strings.Contains(err.Error(), "broken") {
		t.Errorf("exiting binary: %v", err)
	}
	t.Setenv(FirefoxEnv, script)
	if _, err = e.Launch(ctx, harness.LaunchConfig{}); !errors.Is(err, harness.ErrBrowserDied) {
		t.Errorf("$%s was not used: %v", FirefoxEnv, err)
	}
	_, err = e.Launch(ctx, harness.LaunchConfig{RemoteURL: "ws://127.0.0.1:9/"})
	if !errors.Is(err, harness.ErrUnsupported) {
		t.Errorf("attach: %v", err)
	}
	_, err = e.Launch(ctx, harness.LaunchConfig{Path: script, Names: []string{"app.test"}, Addr: "127.0.0.2"})
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1") {
		t.Errorf("names on 127.0.0.2: %v", err)
	}
	_, err = e.Launch(ctx, harness.LaunchConfig{Path: script, Names: []string{"*.test"}})
	if err == nil || !strings.Contains(err.Error(), "exact names") {
		t.Errorf("a wildcard name: %v", err)
	}
	if _, err := launch(ctx, config{path: script, tempDir: parent, prefs: map[string]any{"x": 1.5}}); err == nil || !strings.Contains(err.Error(), "pref x") {
		t.Errorf("bad pref: %v", err)
	}
	if n := leftovers(t, parent); n != 0 {
		t.Errorf("%d temp folders left", n)
	}
}

// TestMain doubles as the helper process of TestAPanicLeavesNothingRunning.
func TestMain(m *testing.M) {
	if mode := os.Getenv("CORSLAB_FIREFOX_PANIC_HELPER"); mode != "" {
		panicHelper(mode)
		return
	}
	os.Exit(m.Run())
}

// panicHelper launches Firefox (under $TMPDIR, as the engine does) and panics.
func panicHelper(mode string) {
	b, err := Engine{}.Launch(context.Background(), harness.LaunchConfig{})
	if err != nil {
		fmt.Println("launch:", err)
		os.Exit(2)
	}
	fmt.Println("pid", b.(*browser).pid)
	switch mode {
	case "deferred":
		// The usual shape: Close is deferred, the panic unwinds through it.
		defer b.Close()
		panic("corslab test panic with Close deferred")
	case "goroutine":
		// The worst case: a panic elsewhere kills the process before any defer.
		go panic("corslab test panic in another goroutine")
		time.Sleep(10 * time.Second)
	}
}

func TestAPanicLeavesNothingRunning(t *testing.T) {
	needFirefox(t)
	t.Parallel()
	for _, mode := range []string{"deferred", "goroutine"} {
		t.Run(mode, func(t *testing.T) {
			parent := t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "CORSLAB_FIREFOX_PANIC_HELPER="+mode, "TMPDIR="+parent)
			out, _ := cmd.CombinedOutput()
			var pid int
			for _, line := range strings.Split(string(out), "\n") {
				if v, ok := strings.CutPrefix(line, "pid "); ok {
					pid, _ = strconv.Atoi(v)
				}
			}
			if pid == 0 {
				t.Fatalf("the helper did not launch Firefox: %s", out)
			}
			if !strings.Contains(string(out), "panic:") {
				t.Fatalf("the helper did not panic: %s", out)
			}
			// Pdeathsig kills the main process; its children follow when their parent's IPC closes.
			if !gone(pid, 10*time.Second) {
				t.Errorf("processes of group %d outlived the panicking program: %v", pid, procfs.GroupPIDs(pid))
			}
			switch mode {
			case "deferred":
				if n := leftovers(t, parent); n != 0 {
					t.Errorf("%d temp folders outlived a panic that ran Close", n)
				}
			case "goroutine":
				// No defer ran: the folder is left, and the next launch sweeps it.
				if n := leftovers(t, parent); n != 1 {
					t.Errorf("%d temp folders after a panic that skipped Close, want 1", n)
				}
				sweepStale(parent)
				if n := leftovers(t, parent); n != 0 {
					t.Errorf("%d temp folders after the sweep a launch makes first", n)
				}
			}
		})
	}
}

// Close leaves nothing: no process of Firefox's group, no temp folder, and
// no goroutine of the engine (socket reader, stderr reader, process waiter,
// watcher, intercept workers), even with a context and tabs left open. (Not
// parallel: it counts the process's goroutines.)
func TestCloseLeavesNothing(t *testing.T) {
	needFirefox(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	parent := t.TempDir()
	before := runtime.NumGoroutine()
	b, err := launchIn(t, ctx, parent, "")
	if err != nil {
		t.Fatal(err)
	}
	pid, dir := b.pid, b.dir
	if n := len(procfs.GroupPIDs(pid)); n < 2 {
		t.Errorf("a running Firefox has %d processes in its group, want several", n)
	}
	if b.Memory() <= 0 {
		t.Error("Memory() = 0 for a running browser")
	}
	if !strings.HasPrefix(b.Version(), "Firefox ") || b.Err() != nil {
		t.Errorf("Version() = %q, Err() = %v", b.Version(), b.Err())
	}
	c, err := b.NewContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Open(ctx, harness.Page{As: "https://app.example.com", HTML: "<title>x</title>" + corsJSStub}); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil { // the context is not closed first
		t.Fatalf("Close: %v", err)
	}
	if n := len(procfs.GroupPIDs(pid)); n != 0 {
		t.Errorf("%d processes of group %d outlived Close", n, pid)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temp folder %s outlived Close (%v)", dir, err)
	}
	if n := leftovers(t, parent); n != 0 {
		t.Errorf("%d temp folders left", n)
	}
	select {
	case <-b.Done():
	default:
		t.Error("Done() is not closed after Close")
	}
	if b.Err() == nil {
		t.Error("Err() is nil after Close")
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("closing a context of a closed browser: %v", err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines before the launch, %d after Close:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

// corsJSStub stands in for cors.js in a page that runs as another origin
// (the tab checks that corslab and createCORSRequest exist).
const corsJSStub = `<script>var corslab = {}; function createCORSRequest() {}</script>`

package webkit

import (
	"context"
	"errors"
	"fmt"
	"github.com/corslab/corslab/harness/internal/procfs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// browser is an Xvfb display and the MiniBrowser processes on it, one per
// browser context (stock MiniBrowser has one network session per process).
// It is gone (Done) when Xvfb or any of its MiniBrowsers exits unasked, or a
// page's web process dies: the harness then launches a new one.
type browser struct {
	path       string
	version    string
	tmp        string // the parent of every profile, removed by Close
	display    *display
	guard      *guard
	mounts     mounts
	names      []string // host names that bypass the guard
	thirdParty bool

	done     chan struct{}
	failOnce sync.Once
	bg       sync.WaitGroup // background work Close waits for

	mu       sync.Mutex
	err      error // why the browser is gone
	closed   bool
	contexts map[*bcontext]bool // every MiniBrowser running: held, spare or being recycled
	spares   []*bcontext        // started MiniBrowsers no harness context holds
	pending  int                // spares being made ready (recycled) in the background
}

// tmpPrefix names the temporary folders of this package; the pid after it
// lets a launch remove those of processes that died without Close.
const tmpPrefix = "corslab-webkit-"

// launchConfig is what launch needs, from harness.LaunchConfig.
type launchConfig struct {
	path       string
	names      []string
	addr       string
	cert       []byte
	thirdParty bool
}

// launch starts the guard, Xvfb and a first MiniBrowser (kept for the
// first NewContext). ctx bounds the launch only; on any error nothing is
// left running or on disk.
func launch(ctx context.Context, lc launchConfig) (_ *browser, err error) {
	sweepStale()
	tmp, err := os.MkdirTemp("", tmpPrefix+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return nil, fmt.Errorf("webkit: make a temporary folder: %w", err)
	}
	b := &browser{path: lc.path, tmp: tmp, names: lc.names, thirdParty: lc.thirdParty,
		done: make(chan struct{}), contexts: map[*bcontext]bool{}}
	defer func() {
		if err != nil {
			_ = b.Close()
		}
	}()
	if b.mounts, err = writeMounts(tmp, lc.names, lc.addr, lc.cert); err != nil {
		return nil, err
	}
	if err := b.mounts.check(ctx, sandboxNeed(lc)); err != nil {
		return nil, err
	}
	if b.guard, err = startGuard(); err != nil {
		return nil, err
	}
	if b.display, err = startXvfb(ctx); err != nil {
		return nil, err
	}
	go func() {
		<-b.display.proc.done
		b.fail(fmt.Errorf("the X server (Xvfb %s) exited (%v)", b.display.name(), b.display.proc.exitError()))
	}()
	// The version and the first MiniBrowser at once: both wait for GTK.
	verr := make(chan error, 1)
	go func() {
		var err error
		b.version, err = minibrowserVersion(ctx, lc.path, b.display.name(), tmp)
		verr <- err
	}()
	first, err := b.startContext(ctx)
	if err := errors.Join(err, <-verr); err != nil {
		return nil, err
	}
	b.mu.Lock()
	b.spares = append(b.spares, first)
	b.mu.Unlock()
	return b, nil
}

// sandboxNeed says what the private mount namespace is for, for its error.
func sandboxNeed(lc launchConfig) string {
	switch {
	case len(lc.names) > 0 && len(lc.cert) > 0:
		return "the origins' names (" + strings.Join(lc.names, ", ") + ") and their TLS certificate"
	case len(lc.names) > 0:
		return "the origins' names (" + strings.Join(lc.names, ", ") + ")"
	}
	return "the origins' TLS certificate"
}

// versions caches MiniBrowser --version per binary: it costs a GTK start.
var versions sync.Map

// minibrowserVersion returns what MiniBrowser --version prints, e.g. "WebKitGTK 2.50.6".
func minibrowserVersion(ctx context.Context, path, display, tmp string) (string, error) {
	if v, ok := versions.Load(path); ok {
		return v.(string), nil
	}
	cmd := exec.CommandContext(ctx, path, "--version")
	// GTK opens the display before it parses options.
	cmd.Env = append(childEnv(), "DISPLAY="+display, "XDG_CONFIG_HOME="+tmp, "XDG_CACHE_HOME="+tmp, "XDG_DATA_HOME="+tmp,
		"GSETTINGS_BACKEND=memory", "NO_AT_BRIDGE=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.Output()
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return "", fmt.Errorf("webkit: %s --version: %w", path, err)
	}
	v := strings.TrimSpace(string(out))
	versions.Store(path, v)
	return v, nil
}

// findMiniBrowser returns path if it is set, else $CORSLAB_WEBKIT, else the
// MiniBrowser of the libwebkit2gtk-4.1-0 package; the error says how to install it.
func findMiniBrowser(path string) (string, error) {
	from := "LaunchConfig.Path"
	if path == "" {
		path, from = os.Getenv(EnvPath), "$"+EnvPath
	}
	if path != "" {
		st, err := os.Stat(path)
		if err != nil {
			return "", fmt.Errorf("webkit: MiniBrowser %s (from %s): %w", path, from, err)
		}
		if st.IsDir() || st.Mode()&0o111 == 0 {
			return "", fmt.Errorf("webkit: MiniBrowser %s (from %s) is not an executable file", path, from)
		}
		return path, nil
	}
	matches, _ := filepath.Glob("/usr/lib/*/webkit2gtk-4.1/MiniBrowser")
	for _, c := range append(matches, "/usr/libexec/webkit2gtk-4.1/MiniBrowser") {
		if st, err := os.Stat(c); err == nil && !st.IsDir() {
			return c, nil
		}
	}
	return "", fmt.Errorf("webkit: WebKitGTK's MiniBrowser is not installed (looked in /usr/lib/*/webkit2gtk-4.1/): %s, or set $%s to a MiniBrowser", xvfbInstall, EnvPath)
}

// EnvPath is the environment variable that names the MiniBrowser to launch.
const EnvPath = "CORSLAB_WEBKIT"

// sweepStale removes the temporary folders of processes that ended without
// Close (a hard crash of the Go program; its browser died with it).
func sweepStale() {
	ents, err := os.ReadDir(os.TempDir())
	if err != nil {
		return
	}
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), tmpPrefix)
		if !ok || !e.IsDir() {
			continue
		}
		pidText, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); err == nil || errors.Is(err, syscall.EPERM) {
			continue
		}
		_ = os.RemoveAll(filepath.Join(os.TempDir(), e.Name()))
	}
}

// fail marks the browser gone for err: Done closes, Err says why.
func (b *browser) fail(err error) {
	b.failOnce.Do(func() {
		b.mu.Lock()
		b.err = err
		b.mu.Unlock()
		close(b.done)
	})
}

// Version is what MiniBrowser --version printed, e.g. "WebKitGTK 2.50.6".
func (b *browser) Version() string { return b.version }

// Path is the MiniBrowser binary.
func (b *browser) Path() string { return b.path }

// Done is closed when the browser is gone.
func (b *browser) Done() <-chan struct{} { return b.done }

// Err says why the browser is gone; nil while it runs.
func (b *browser) Err() error {
	select {
	case <-b.done:
	default:
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// alive reports whether the browser still runs.
func (b *browser) alive() bool {
	select {
	case <-b.done:
		return false
	default:
		return true
	}
}

// Memory returns the summed proportional set size (PSS) of Xvfb and every
// process of every MiniBrowser: MiniBrowser, WebKitWebProcess and
// WebKitNetworkProcess; 0 when none is left to measure.
func (b *browser) Memory() int64 {
	if b.display == nil {
		return 0
	}
	pgids := []int{b.display.proc.pid()}
	b.mu.Lock()
	for c := range b.contexts {
		pgids = append(pgids, c.proc.pid())
	}
	b.mu.Unlock()
	var total int64
	for _, g := range pgids {
		total += procfs.PSS(procfs.GroupPIDs(g)...)
	}
	return total
}

// errClosed is the error of a closed browser's operations.
var errClosed = errors.New("webkit: the browser is closed")

// Close stops every MiniBrowser, Xvfb and the guard and removes every
// temporary file; it leaves no process, X socket or lock file behind. It
// is safe to call twice.
func (b *browser) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	var cs []*bcontext
	for c := range b.contexts {
		cs = append(cs, c)
	}
	b.spares = nil
	b.mu.Unlock()
	b.fail(errClosed)
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Go(c.kill)
	}
	wg.Wait()
	b.bg.Wait() // background work ends once its MiniBrowser is killed
	var errs []error
	if b.display != nil {
		errs = append(errs, b.display.close())
	}
	if b.guard != nil {
		b.guard.close()
	}
	if err := os.RemoveAll(b.tmp); err != nil {
		errs = append(errs, fmt.Errorf("webkit: remove %s: %w", b.tmp, err))
	}
	return errors.Join(errs...)
}

// startTimeout bounds a launch whose config and context set no deadline.
const startTimeout = 30 * time.Second

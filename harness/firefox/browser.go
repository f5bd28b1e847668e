package firefox

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/internal/procfs"
)

// errClosed is wrapped by the errors of calls made during or after Close.
var errClosed = errors.New("the browser was closed")

// config is what one launch needs, from harness.LaunchConfig.
type config struct {
	path         string
	names        []string // exact host names for network.dns.localDomains
	cert         []byte   // the one certificate to trust (DER), nil for none
	thirdParty   bool     // allow third-party cookies
	prefs        map[string]any
	startTimeout time.Duration
	tempDir      string // the parent of the browser's temp folder; "" is os.TempDir()
}

// browser is one running Firefox, driven over WebDriver BiDi.
type browser struct {
	cfg     config
	path    string
	dir     string // our temp folder: profile/ and tmp/
	cmd     *exec.Cmd
	pid     int
	conn    *conn
	version string

	exited  chan struct{} // closed when the process has exited
	exitErr error         // set before exited closes
	done    chan struct{} // closed when the process exited or the connection was lost
	stderr  *tailBuffer   // the last lines Firefox wrote, for errors
	scanned chan struct{} // closed when the stderr reader has ended

	events    *router
	chromeCtx string // the browser window's chrome-scope browsing context

	closeOnce sync.Once
	closeErr  error
	closing   atomic.Bool
	connLost  atomic.Bool // a call found the connection gone: later calls do not wait for the exit again
}

// tempPrefix names corslab's Firefox folders in the temp dir.
const tempPrefix = "corslab-firefox-"

// defaultStartTimeout bounds a launch when LaunchConfig.StartTimeout is 0.
const defaultStartTimeout = 30 * time.Second

var listening = regexp.MustCompile(`WebDriver BiDi listening on (ws://\S+)`)

// launch starts Firefox with a fresh profile and opens a BiDi session. ctx
// bounds the launch only; on error nothing is left running or on disk.
func launch(ctx context.Context, cfg config) (_ *browser, err error) {
	timeout := cfg.startTimeout
	if timeout <= 0 {
		timeout = defaultStartTimeout
	}
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, fmt.Errorf("firefox did not start within %s", timeout))
	defer cancel()
	sweepStale(cfg.tempDir)
	dir, err := os.MkdirTemp(cfg.tempDir, tempPrefix)
	if err != nil {
		return nil, fmt.Errorf("make temp folder: %w", err)
	}
	b := &browser{cfg: cfg, path: cfg.path, dir: dir, exited: make(chan struct{}), done: make(chan struct{}), stderr: &tailBuffer{max: 40}}
	defer func() {
		if err != nil {
			_ = b.Close()
			if cerr := context.Cause(ctx); cerr != nil && !errors.Is(err, cerr) {
				err = fmt.Errorf("%w: %w", cerr, err)
			}
			err = fmt.Errorf("launch %s: %w", cfg.path, err)
		}
	}()
	profile, tmp := filepath.Join(dir, "profile"), filepath.Join(dir, "tmp")
	for _, d := range []string{profile, tmp} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("make temp folder: %w", err)
		}
	}
	if err := writeUserJS(profile, cfg); err != nil {
		return nil, err
	}
	if err := b.start(ctx, profile, tmp); err != nil {
		return nil, err
	}
	if err := b.openSession(ctx); err != nil {
		return nil, err
	}
	return b, nil
}

// start runs the process and dials its BiDi endpoint.
func (b *browser) start(ctx context.Context, profile, tmp string) error {
	cmd := exec.Command(b.path, "--headless", "--no-remote", "--profile", profile,
		"--remote-debugging-port", "0", "--remote-allow-system-access", "about:blank")
	// Firefox's temp and cache files go to our folder (it creates
	// $XDG_CACHE_HOME/mozilla even with --profile); no crash reporter.
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp, "XDG_CACHE_HOME="+tmp, "MOZ_CRASHREPORTER_DISABLE=1", "MOZ_CRASHREPORTER=0")
	// Its own process group, so Close can kill every process it started;
	// Pdeathsig takes it down if this process dies without closing it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	// An os.Pipe, not StderrPipe: cmd.Wait must report the main process's
	// exit even while a child still holds the pipe.
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("stderr pipe: %w", err)
	}
	cmd.Stderr = w
	err = cmd.Start()
	w.Close()
	if err != nil {
		r.Close()
		return fmt.Errorf("start: %w", err)
	}
	b.cmd, b.pid = cmd, cmd.Process.Pid
	urls := make(chan string, 1)
	// The reader owns the pipe until every process of the group closed it.
	b.scanned = make(chan struct{})
	go func() {
		defer close(b.scanned)
		defer r.Close()
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			b.stderr.add(line)
			if m := listening.FindStringSubmatch(line); m != nil && !sent {
				urls <- m[1]
				sent = true
			}
		}
		_, _ = io.Copy(io.Discard, r)
	}()
	go func() {
		b.exitErr = cmd.Wait()
		close(b.exited)
	}()
	var url string
	select {
	case url = <-urls:
	case <-b.exited:
		select { // its last words
		case <-b.scanned:
		case <-time.After(time.Second):
		}
		return fmt.Errorf("%w: it exited before it listened (%v); its last output: %s", harness.ErrBrowserDied, b.exitErr, b.stderr.String())
	case <-ctx.Done():
		return fmt.Errorf("waiting for %q on its stderr: %w", "WebDriver BiDi listening", context.Cause(ctx))
	}
	c, err := dial(ctx, strings.TrimSuffix(url, "/")+"/session")
	if err != nil {
		return b.explain(err)
	}
	b.conn = c
	go func() {
		select {
		case <-b.exited:
		case <-c.done:
		}
		close(b.done)
	}()
	return nil
}

// openSession starts the BiDi session, subscribes to the events the
// observers need, installs the chrome-scope console listener and trusts the
// origins' certificate.
func (b *browser) openSession(ctx context.Context) error {
	var sess struct {
		Capabilities struct {
			BrowserName    string `json:"browserName"`
			BrowserVersion string `json:"browserVersion"`
		} `json:"capabilities"`
	}
	if err := b.call(ctx, "session.new", map[string]any{"capabilities": map[string]any{}}, &sess); err != nil {
		return err
	}
	name := sess.Capabilities.BrowserName
	if name == "firefox" {
		name = "Firefox"
	}
	b.version = name + " " + sess.Capabilities.BrowserVersion
	b.events = newRouter()
	b.conn.on(b.events.dispatch)
	if err := b.call(ctx, "session.subscribe", map[string]any{"events": subscribedEvents}, nil); err != nil {
		return err
	}
	if err := b.startConsole(ctx); err != nil {
		return err
	}
	if len(b.cfg.cert) > 0 {
		if err := b.trust(ctx, b.cfg.cert); err != nil {
			return err
		}
	}
	return nil
}

// call sends one BiDi command; when the browser died under it, the error says so.
func (b *browser) call(ctx context.Context, method string, params, result any) error {
	if err := b.conn.call(ctx, method, params, result); err != nil {
		return b.explain(err)
	}
	return nil
}

// explain wraps err with harness.ErrBrowserDied when the browser exited (or
// is exiting: the socket closes a moment before the process is reaped).
func (b *browser) explain(err error) error {
	if err == nil || errors.Is(err, harness.ErrBrowserDied) || errors.Is(err, errClosed) {
		return err
	}
	if b.closing.Load() {
		return fmt.Errorf("%w: %w", errClosed, err)
	}
	if errors.Is(err, errConnClosed) {
		// The first call to find the connection gone waits a moment for the
		// exit, to say how it ended; the ones after it (closing many
		// contexts, say) do not wait again.
		wait := 2 * time.Second
		if b.connLost.Swap(true) {
			wait = 0
		}
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-b.exited:
		case <-t.C:
			return fmt.Errorf("%w (pid %d still runs, but its WebDriver BiDi connection is gone): %w", harness.ErrBrowserDied, b.pid, err)
		}
	}
	select {
	case <-b.exited:
		return fmt.Errorf("%w (pid %d: %v): %w", harness.ErrBrowserDied, b.pid, b.exitErr, err)
	default:
		return err
	}
}

// died returns the error of a call cut short because the browser ended.
func (b *browser) died() error {
	if b.closing.Load() {
		return errClosed
	}
	select {
	case <-b.exited:
		return fmt.Errorf("%w (pid %d: %v)", harness.ErrBrowserDied, b.pid, b.exitErr)
	default:
	}
	err := b.conn.closedErr()
	if err == nil {
		err = errConnClosed
	}
	return b.explain(err)
}

// Version is the browser's name and version, e.g. "Firefox 153.8.0esr".
func (b *browser) Version() string { return b.version }

// Path is the Firefox binary.
func (b *browser) Path() string { return b.path }

// Done is closed when Firefox has exited or its BiDi connection is lost.
func (b *browser) Done() <-chan struct{} { return b.done }

// Err says why Firefox ended; nil while it runs.
func (b *browser) Err() error {
	select {
	case <-b.done:
	default:
		return nil
	}
	if b.closing.Load() {
		return errClosed
	}
	select {
	case <-b.exited:
		if b.exitErr == nil {
			return errors.New("firefox exited")
		}
		return fmt.Errorf("firefox exited: %w", b.exitErr)
	default:
		return b.conn.closedErr()
	}
}

// Close ends the session gracefully (browser.close), kills the process
// group if it has not gone within a few seconds, and removes the temp
// folder. It is safe to call more than once.
func (b *browser) Close() error {
	b.closeOnce.Do(func() { b.closeErr = b.close() })
	return b.closeErr
}

func (b *browser) close() error {
	b.closing.Store(true)
	var errs []error
	if b.cmd != nil {
		select {
		case <-b.exited:
		default:
			if b.conn != nil {
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
				// browser.close answers, then the process exits.
				_ = b.conn.call(ctx, "browser.close", nil, nil)
				cancel()
				// A busy machine can keep Firefox from exiting for seconds:
				// then the kill below ends it, which leaves nothing behind
				// either (the lifecycle tests check), so it is not an error.
				t := time.NewTimer(5 * time.Second)
				select {
				case <-b.exited:
				case <-t.C:
				}
				t.Stop()
			}
		}
		// The last resort, and it catches any child left in the group.
		_ = syscall.Kill(-b.pid, syscall.SIGKILL)
		<-b.exited
		waitGroupGone(b.pid, 5*time.Second)
		select {
		case <-b.scanned:
		case <-time.After(2 * time.Second):
			errs = append(errs, errors.New("firefox's stderr stayed open 2 s after its process group was killed"))
		}
	}
	if b.conn != nil {
		b.conn.close()
		<-b.done
	} else {
		close(b.done)
	}
	if b.dir != "" {
		if err := procfs.RemoveAll(b.dir); err != nil {
			errs = append(errs, fmt.Errorf("remove temp folder: %w", err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("firefox: close: %w", errors.Join(errs...))
	}
	return nil
}

// waitGroupGone waits until no process of group pgid is left (children are
// reaped by init once the main process is gone).
func waitGroupGone(pgid int, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if len(procfs.GroupPIDs(pgid)) == 0 {
			return
		}
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		time.Sleep(20 * time.Millisecond)
	}
}

// Memory returns the summed PSS of the browser's processes in bytes
// (shared pages split among their users); 0 when /proc cannot be read.
func (b *browser) Memory() int64 { return procfs.PSS(procfs.GroupPIDs(b.pid)...) }

// sweepStale removes the folders of corslab Firefoxes that died with their
// owner (SIGKILL, os.Exit, a panic in another goroutine): a folder is stale
// when its profile lock names a process that no longer runs.
func sweepStale(parent string) {
	if parent == "" {
		parent = os.TempDir()
	}
	dirs, _ := filepath.Glob(filepath.Join(parent, tempPrefix+"*"))
	for _, dir := range dirs {
		// Firefox's lock is a symlink to "IP:+PID".
		target, err := os.Readlink(filepath.Join(dir, "profile", "lock"))
		if err != nil {
			continue // no lock yet: a Firefox may be starting; leave it
		}
		i := strings.LastIndexByte(target, '+')
		pid, err := strconv.Atoi(target[i+1:])
		if err != nil || pid <= 0 {
			continue
		}
		if !procfs.Alive(pid) {
			_ = os.RemoveAll(dir)
		}
	}
}

// tailBuffer keeps the last lines a process wrote.
type tailBuffer struct {
	mu    sync.Mutex
	max   int
	lines []string
}

func (t *tailBuffer) add(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, line)
	if len(t.lines) > t.max {
		t.lines = t.lines[len(t.lines)-t.max:]
	}
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, " | ")
}

// evalResult is script.evaluate's (and script.callFunction's) result.
type evalResult struct {
	Type   string `json:"type"` // "success" or "exception"
	Result struct {
		Type  string          `json:"type"`
		Value json.RawMessage `json:"value"`
	} `json:"result"`
	ExceptionDetails *struct {
		Text       string `json:"text"`
		LineNumber int    `json:"lineNumber"`
	} `json:"exceptionDetails"`
}

func (r *evalResult) err() error {
	if r.Type == "exception" && r.ExceptionDetails != nil {
		return fmt.Errorf("script threw: %s", r.ExceptionDetails.Text)
	}
	if r.Type == "exception" {
		return errors.New("script threw")
	}
	return nil
}

// String returns a BiDi string value's text (the raw JSON for any other type).
func (r *evalResult) String() string {
	if r.Result.Type == "string" {
		var s string
		if json.Unmarshal(r.Result.Value, &s) == nil {
			return s
		}
	}
	return string(r.Result.Value)
}

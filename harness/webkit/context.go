package webkit

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/corslab/corslab/harness"
)

// bcontext is one MiniBrowser process with its own profile: its own network
// process, cookies, HTTP cache and preflight cache. Stock MiniBrowser gives
// every tab of a process one network session, so a browser context is a
// process. Its initial tab (first) is never closed: it opens the others
// with window.open, and serves the harness's first tab in the context.
type bcontext struct {
	b      *browser
	proc   *proc
	port   int
	dir    string
	stderr *tail
	first  *tab

	tabMu sync.Mutex // one tab opening or reset at a time: a new tab is found as the new socket

	mu        sync.Mutex
	tabs      map[*tab]bool // the tabs window.open made, still open
	firstBusy bool          // a harness tab holds first
	firstIC   *interceptor  // the interception first still has from its last page, to remove
	killed    bool          // kill was called: its exit is no crash
	webProcs  map[int]bool  // its web processes when last looked (watchdog)
	uses      int           // harness contexts it has served
	killOnce  sync.Once

	dataTab     *tab   // the tab that shows MiniBrowser's about:data page during a reset
	aboutDataID string // its page id, which about:data's messages name
}

// startContext starts a MiniBrowser on the browser's display with a fresh
// profile and connects to its initial tab.
func (b *browser) startContext(ctx context.Context) (*bcontext, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, startTimeout)
		defer cancel()
	}
	dir, err := os.MkdirTemp(b.tmp, "context-")
	if err != nil {
		return nil, fmt.Errorf("webkit: make a profile folder: %w", err)
	}
	var lastErr error
	// A port picked free can be taken before MiniBrowser binds it; then
	// MiniBrowser says so and another port is tried.
	for range 3 {
		c, err := b.startProcess(ctx, dir)
		if err == nil {
			b.mu.Lock()
			closed := b.closed
			if !closed {
				b.contexts[c] = true
			}
			b.mu.Unlock()
			if closed {
				c.kill()
				return nil, errClosed
			}
			go c.watch()
			return c, nil
		}
		lastErr = err
		if !errors.Is(err, errPortTaken) || ctx.Err() != nil {
			break
		}
	}
	_ = os.RemoveAll(dir)
	return nil, lastErr
}

var errPortTaken = errors.New("the inspector port was taken")

func (b *browser) startProcess(ctx context.Context, dir string) (c *bcontext, err error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("webkit: pick an inspector port: %w", err)
	}
	for _, sub := range []string{"data", "cache", "config", "runtime"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return nil, fmt.Errorf("webkit: make a profile folder: %w", err)
		}
	}
	env := append(childEnv(),
		"DISPLAY="+b.display.name(),
		"WEBKIT_INSPECTOR_HTTP_SERVER=127.0.0.1:"+strconv.Itoa(port),
		"XDG_DATA_HOME="+filepath.Join(dir, "data"),
		"XDG_CACHE_HOME="+filepath.Join(dir, "cache"),
		"XDG_CONFIG_HOME="+filepath.Join(dir, "config"),
		"XDG_RUNTIME_DIR="+filepath.Join(dir, "runtime"),
		"GSETTINGS_BACKEND=memory", // no dconf writes
		"NO_AT_BRIDGE=1",           // no accessibility bus to look for
	)
	args := []string{"--proxy=" + b.guard.url()}
	// Loopback and the origins' names go direct; everything else meets the guard.
	for _, h := range append([]string{"localhost", "127.0.0.0/8", "::1"}, b.names...) {
		args = append(args, "--ignore-host="+h)
	}
	if b.thirdParty {
		args = append(args, "--cookies-policy=always")
	}
	args = append(args, "about:blank")
	cmd, err := b.mounts.wrap(b.path, args...)
	if err != nil {
		return nil, fmt.Errorf("webkit: %w", err)
	}
	cmd.Env = env
	cmd.Dir = dir
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("webkit: start MiniBrowser: %w", err)
	}
	p, err := startProc(cmd, syscall.SIGKILL)
	if err != nil {
		return nil, fmt.Errorf("webkit: start MiniBrowser %s: %w", b.path, err)
	}
	c = &bcontext{b: b, proc: p, port: port, dir: dir, stderr: &tail{}, tabs: map[*tab]bool{}}
	taken := make(chan struct{})
	go c.stderr.read(stderr, taken) // ends when every process of the group closed stderr
	defer func() {
		if err != nil {
			p.stop(syscall.SIGTERM, time.Second)
		}
	}()
	socket, err := c.waitReady(ctx, taken)
	if err != nil {
		return nil, err
	}
	c.first = &tab{c: c, obs: newObserver(), socket: socket, isFirst: true}
	c.first.s, err = dialSession(ctx, c.wsURL(socket), c.first.obs.handle)
	if err != nil {
		return nil, fmt.Errorf("webkit: connect to MiniBrowser's first tab: %w", c.explain(err))
	}
	return c, nil
}

// watch fails the browser when MiniBrowser exits unasked.
func (c *bcontext) watch() {
	<-c.proc.done
	c.exited()
}

// exited fails the browser for MiniBrowser's exit, unless kill asked for
// it. Errors that MiniBrowser's exit explains call it too, so the browser
// is gone by the time the error is returned.
func (c *bcontext) exited() {
	c.mu.Lock()
	killed := c.killed
	c.mu.Unlock()
	if !killed {
		c.b.fail(fmt.Errorf("MiniBrowser (pid %d) exited (%v)%s", c.proc.pid(), c.proc.exitError(), c.stderr.last()))
	}
}

// tail keeps MiniBrowser's last messages, for errors.
type tail struct {
	mu    sync.Mutex
	lines []string
}

// read keeps r's last lines and closes taken when MiniBrowser says its
// inspector port is in use.
func (t *tail) read(r io.Reader, taken chan struct{}) {
	sc := bufio.NewScanner(r)
	once := sync.Once{}
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, "Failed to start remote inspector server") {
			once.Do(func() { close(taken) })
		}
		t.mu.Lock()
		t.lines = append(t.lines, line)
		if len(t.lines) > 8 {
			t.lines = t.lines[1:]
		}
		t.mu.Unlock()
	}
}

// last returns the kept lines as a suffix for an error, "" when there are none.
func (t *tail) last() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.lines) == 0 {
		return ""
	}
	return "; its last messages: " + strings.Join(t.lines, " | ")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitReady polls the inspector's target list until it lists a page and
// the listening socket is MiniBrowser's own; it returns the page's socket path.
func (c *bcontext) waitReady(ctx context.Context, taken <-chan struct{}) (string, error) {
	tick := time.NewTicker(15 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-taken:
			return "", fmt.Errorf("webkit: start MiniBrowser: %w (127.0.0.1:%d)", errPortTaken, c.port)
		case <-c.proc.done:
			return "", fmt.Errorf("webkit: MiniBrowser exited during launch (%v)%s", c.proc.exitError(), c.stderr.last())
		case <-ctx.Done():
			return "", fmt.Errorf("webkit: wait for MiniBrowser's inspector on 127.0.0.1:%d: %w", c.port, ctx.Err())
		case <-tick.C:
		}
		targets, err := c.targets(ctx)
		if err != nil || len(targets) == 0 {
			continue
		}
		if !listensOn(c.proc.pid(), c.port) {
			return "", fmt.Errorf("webkit: start MiniBrowser: %w by another process (127.0.0.1:%d)", errPortTaken, c.port)
		}
		return targets[0].socket, nil
	}
}

// target is one row of the inspector's target list.
type target struct {
	url    string
	socket string // e.g. /socket/1/2/WebPage
}

var targetRow = regexp.MustCompile(`class="targeturl">([^<]*)</div>.*?(/socket/\d+/\d+/WebPage)`)

// targets reads the inspector's HTML list of inspectable pages (it has no JSON list).
func (c *bcontext) targets(ctx context.Context) ([]target, error) {
	rctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, "http://127.0.0.1:"+strconv.Itoa(c.port)+"/", nil)
	if err != nil {
		return nil, err
	}
	resp, err := inspectorClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var out []target
	for _, m := range targetRow.FindAllStringSubmatch(string(body), -1) {
		out = append(out, target{url: m[1], socket: m[2]})
	}
	return out, nil
}

// inspectorClient talks to the loopback inspector directly, whatever the environment's proxy.
var inspectorClient = &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}

func (c *bcontext) wsURL(socket string) string {
	return "ws://127.0.0.1:" + strconv.Itoa(c.port) + socket
}

// listensOn reports whether process pid holds the socket listening on 127.0.0.1:port.
func listensOn(pid, port int) bool {
	b, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		return false
	}
	want := fmt.Sprintf("0100007F:%04X", port)
	inode := ""
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 9 && f[1] == want && f[3] == "0A" { // 0A: LISTEN
			inode = f[9]
		}
	}
	if inode == "" {
		return false
	}
	fds, err := os.ReadDir(filepath.Join("/proc", strconv.Itoa(pid), "fd"))
	if err != nil {
		return false
	}
	for _, fd := range fds {
		if l, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(pid), "fd", fd.Name())); err == nil && l == "socket:["+inode+"]" {
			return true
		}
	}
	return false
}

// explain wraps err with harness.ErrBrowserDied when MiniBrowser exited
// under it. The inspector connection may close a moment before the exit is
// reaped, so an error while MiniBrowser still runs waits for it briefly.
func (c *bcontext) explain(err error) error {
	if err == nil || errors.Is(err, harness.ErrBrowserDied) {
		return err
	}
	if !c.proc.exited() {
		t := time.NewTimer(time.Second)
		defer t.Stop()
		select {
		case <-c.proc.done:
		case <-t.C:
			return err
		}
	}
	c.exited()
	return fmt.Errorf("MiniBrowser exited (%v): %w: %w", c.proc.exitError(), harness.ErrBrowserDied, err)
}

// claim returns a tab for the harness: the initial tab when no one holds
// it, else a new one.
func (c *bcontext) claim(ctx context.Context) (*tab, error) {
	c.mu.Lock()
	if !c.firstBusy {
		c.firstBusy = true
		c.mu.Unlock()
		if err := c.cleanFirst(ctx); err != nil {
			return nil, err
		}
		return c.first, nil
	}
	c.mu.Unlock()
	return c.openBlank(ctx)
}

// cleanFirst removes the interception the initial tab's last page had.
// Until it is gone the tab serves no other page.
func (c *bcontext) cleanFirst(ctx context.Context) error {
	c.mu.Lock()
	ic := c.firstIC
	c.mu.Unlock()
	if ic == nil {
		return nil
	}
	if err := ic.stop(ctx, c.first); err != nil {
		return fmt.Errorf("webkit: remove the interception of %s from the tab: %w", ic.origin, c.explain(err))
	}
	c.mu.Lock()
	c.firstIC = nil
	c.mu.Unlock()
	return nil
}

// openBlank opens an about:blank tab with window.open from the initial tab
// (without opener: the tab is a page of its own) and connects to it.
func (c *bcontext) openBlank(ctx context.Context) (*tab, error) {
	c.tabMu.Lock()
	defer c.tabMu.Unlock()
	before, err := c.targets(ctx)
	if err != nil {
		return nil, fmt.Errorf("webkit: list the tabs: %w", c.explain(err))
	}
	seen := map[string]bool{}
	for _, t := range before {
		seen[t.socket] = true
	}
	var r evalResult
	err = c.first.s.call(ctx, "Runtime.evaluate", map[string]any{
		"expression": `window.open("about:blank", "_blank", "noopener"), true`, "emulateUserGesture": true, "returnByValue": true,
	}, &r)
	if err == nil && r.WasThrown {
		err = fmt.Errorf("window.open threw: %s", r.Result.Description)
	}
	if err != nil {
		return nil, fmt.Errorf("webkit: open a tab: %w", c.explain(err))
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("webkit: wait for the new tab: %w", c.explain(ctx.Err()))
		case <-c.proc.done:
			return nil, fmt.Errorf("webkit: wait for the new tab: %w", c.explain(errors.New("no tab")))
		case <-tick.C:
		}
		now, err := c.targets(ctx)
		if err != nil {
			continue
		}
		for _, tg := range now {
			if seen[tg.socket] {
				continue
			}
			t := &tab{c: c, obs: newObserver(), socket: tg.socket}
			if t.s, err = dialSession(ctx, c.wsURL(tg.socket), t.obs.handle); err != nil {
				return nil, fmt.Errorf("webkit: connect to the new tab: %w", c.explain(err))
			}
			c.mu.Lock()
			c.tabs[t] = true
			c.mu.Unlock()
			return t, nil
		}
	}
}

// kill stops the MiniBrowser and every process it started, and removes its profile.
func (c *bcontext) kill() {
	c.killOnce.Do(func() {
		c.mu.Lock()
		c.killed = true
		var tabs []*tab
		for t := range c.tabs {
			tabs = append(tabs, t)
		}
		c.mu.Unlock()
		for _, t := range tabs {
			t.s.close()
		}
		if c.first != nil {
			c.first.s.close()
		}
		c.proc.stop(syscall.SIGTERM, 2*time.Second)
		_ = os.RemoveAll(c.dir)
		c.b.mu.Lock()
		delete(c.b.contexts, c)
		c.b.mu.Unlock()
	})
}

// Package harness drives a real headless Chrome against corslab's loopback
// origins and reports every cross-origin request three ways: what the page's
// JavaScript saw, what Chrome did (DevTools protocol), and what the server
// received (its journal).
package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/corslab/corslab/servers"
)

// RemoteEnv is the environment variable that holds a DevTools URL to attach to instead of launching Chrome.
const RemoteEnv = "CORSLAB_CHROME_URL"

// ErrBrowserDied is wrapped by the errors of requests whose browser exited under them.
var ErrBrowserDied = errors.New("the browser died")

// Options configure an Env; the zero value launches the Chrome FindChrome
// finds against the default origin pair on 127.0.0.1.
type Options struct {
	// Servers choose the origins: names (app.test/api.test), TLS, a user's API handler.
	Servers servers.Options
	// ChromePath is the Chrome binary; "" means $CORSLAB_CHROME, then PATH.
	ChromePath string
	// RemoteURL attaches to a running Chrome at this DevTools URL
	// (ws://host:port/devtools/browser/… or http://host:port) instead of
	// launching one; "" means $CORSLAB_CHROME_URL, then launch. The remote
	// Chrome must reach the origins, and corslab cannot set its flags: for
	// *.test names or HTTPS origins start it with the matching flags.
	RemoteURL string
	// ChromeFlags are extra command-line flags, e.g. {"ip-address-space-overrides": "..."}.
	// A value of type OriginsFlag is computed from the running origins
	// (their ports are only known then). Flags that switch off web security are refused.
	ChromeFlags map[string]any
	// ThirdPartyCookies launches Chrome with third-party cookies allowed
	// (Chromium blocks them by default).
	ThirdPartyCookies bool
	// AllowRemoteTargets lets a Request.URL name a host that is not on this machine.
	AllowRemoteTargets bool
	// APIURL is the base URL of an API that already runs (e.g.
	// "http://localhost:8080"): a Request.URL that starts with "/" goes there
	// instead of the API origin. Its requests are not in corslab's journal.
	APIURL string
	// RequestTimeout bounds one Do when its context has no deadline; 0 means 20 s.
	RequestTimeout time.Duration
	// ShareBrowser lets Envs of this process with the same Chrome flags share
	// one Chrome (each session is its own browser context, so nothing else is
	// shared); the last Close closes it. suite.Start sets it.
	ShareBrowser bool
	// WarmSessions is how many fresh sessions are kept ready for NewSession,
	// refilled in the background from the first NewSession on (an Env used
	// only through Do makes none); 0 means 2, a negative value none.
	WarmSessions int
}

// OriginsFlag is a Chrome flag value computed from the running origins, e.g.
// --ip-address-space-overrides, which names the page origin's port.
type OriginsFlag func(*servers.Origins) string

// Env is a running Chrome plus the origins it tests. The caller must call Close when finished.
type Env struct {
	Origins *servers.Origins
	opts    Options
	cfg     launchConfig

	mu      sync.Mutex
	browser *browser
	shared  *Session
	closed  bool
	deaths  int

	warm     chan *Session // fresh sessions, ready
	refill   chan struct{} // a token asks the refiller for one more
	primed   sync.Once     // the first NewSession fills the pool
	stop     context.CancelFunc
	refiller sync.WaitGroup
	peakRSS  int64
}

// forbiddenFlags would make the test meaningless: corslab tests a browser that enforces CORS.
var forbiddenFlags = []string{"disable-web-security", "ignore-certificate-errors", "user-data-dir",
	"remote-debugging-port", "remote-debugging-pipe", "disable-site-isolation-trials"}

// Start starts the origins and launches (or attaches to) Chrome; on error
// nothing is left running. ctx bounds the start only, not the life of the Env.
func Start(ctx context.Context, opts Options) (*Env, error) {
	for k := range opts.ChromeFlags {
		for _, f := range forbiddenFlags {
			if strings.TrimLeft(k, "-") == f {
				return nil, fmt.Errorf("harness: Chrome flag --%s is not allowed: corslab must test a browser that enforces CORS, with the profile it manages", k)
			}
		}
	}
	if err := checkAPIURL(opts.APIURL, opts.AllowRemoteTargets); err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	cfg := launchConfig{
		remoteURL:  opts.RemoteURL,
		hostRule:   "MAP *.test " + bindAddr(opts.Servers),
		thirdParty: opts.ThirdPartyCookies,
	}
	if cfg.remoteURL == "" {
		cfg.remoteURL = os.Getenv(RemoteEnv)
	}
	if cfg.remoteURL == "" {
		path, err := FindChrome(opts.ChromePath)
		if err != nil {
			return nil, fmt.Errorf("harness: %w", err)
		}
		cfg.path = path
	}
	origins, err := servers.Start(opts.Servers)
	if err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	cfg.spki = origins.SPKI
	// Flags that name the origins (ports) are computed now that they run.
	cfg.extraFlags = make(map[string]any, len(opts.ChromeFlags))
	for k, v := range opts.ChromeFlags {
		if f, ok := v.(OriginsFlag); ok {
			v = f(origins)
		}
		cfg.extraFlags[k] = v
	}
	b, err := acquire(ctx, cfg, opts.ShareBrowser)
	if err != nil {
		origins.Close()
		return nil, fmt.Errorf("harness: %w", err)
	}
	e := &Env{Origins: origins, opts: opts, cfg: cfg, browser: b}
	n := opts.WarmSessions
	if n == 0 {
		n = 2
	}
	if n > 0 {
		e.startRefiller(n)
	}
	return e, nil
}

func bindAddr(o servers.Options) string {
	if o.Bind != "" {
		return o.Bind
	}
	return "127.0.0.1"
}

// ChromeVersion is what the Chrome in use reports for its version.
func (e *Env) ChromeVersion() string { return e.currentBrowser().version }

// ChromePath is the Chrome binary the Env launched, or the DevTools URL it attached to.
func (e *Env) ChromePath() string { return e.currentBrowser().path }

// ChromeRSS returns the memory of the launched Chrome's processes in bytes
// (summed PSS, so shared pages count once), and the peak seen by earlier calls and by the Env's own sampling; 0
// for an attached browser.
func (e *Env) ChromeRSS() (now, peak int64) {
	now = e.currentBrowser().rss()
	e.mu.Lock()
	defer e.mu.Unlock()
	e.peakRSS = max(e.peakRSS, now)
	return now, e.peakRSS
}

// Deaths counts the browsers that died under this Env and were replaced.
func (e *Env) Deaths() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.deaths
}

func (e *Env) currentBrowser() *browser {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.browser
}

// liveBrowser returns the running browser, launching a new one when the last one died.
func (e *Env) liveBrowser(ctx context.Context) (*browser, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, errors.New("harness: the Env is closed")
	}
	if e.browser.alive() {
		return e.browser, nil
	}
	old := e.browser
	_ = release(old) // the last Env to let go removes what the dead one left
	b, err := acquire(ctx, e.cfg, e.opts.ShareBrowser)
	if err != nil {
		return nil, fmt.Errorf("harness: replace the browser that died: %w", err)
	}
	e.browser = b
	e.deaths++
	e.shared = nil
	return b, nil
}

// Do sends req from the Env's shared session, a warm tab on the page origin.
// Requests are kept apart by their tokens: each has its own URL (so its own
// preflight-cache entry) and its cookies are scoped to its token's path. Use
// NewSession for a clean browser state (cookies, whole preflight cache).
func (e *Env) Do(ctx context.Context, req Request) (Result, error) {
	s, err := e.sharedSession(ctx)
	if err != nil {
		return Result{}, err
	}
	return s.Do(ctx, req)
}

func (e *Env) sharedSession(ctx context.Context) (*Session, error) {
	e.mu.Lock()
	if s := e.shared; s != nil && s.alive() {
		e.mu.Unlock()
		return s, nil
	}
	e.mu.Unlock()
	// Not from the warm pool: an Env used only through Do then never pays
	// for sessions nobody asks for.
	if _, err := e.liveBrowser(ctx); err != nil {
		return nil, err
	}
	s, err := e.openSession(ctx)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.shared != nil && e.shared.alive() { // another goroutine won
		go s.Close()
		return e.shared, nil
	}
	e.shared = s
	return s, nil
}

// NewSession returns a fresh browser context (its own cookies and preflight
// cache) with a tab on the page origin, ready to send requests. It takes one
// from the warm pool when one is ready, so the ~100 ms it costs to make one
// (a hidden tab in a new browser context) is usually paid in the background;
// the first call fills the pool. The caller must Close it.
func (e *Env) NewSession(ctx context.Context) (*Session, error) {
	if _, err := e.liveBrowser(ctx); err != nil {
		return nil, err
	}
	if e.warm != nil {
		e.primed.Do(func() {
			for range cap(e.warm) {
				e.askRefill()
			}
		})
	}
	for e.warm != nil {
		select {
		case s := <-e.warm:
			e.askRefill()
			if s.alive() {
				return s, nil
			}
			s.Close()
			continue
		default:
		}
		break
	}
	return e.openSession(ctx)
}

func (e *Env) askRefill() {
	select {
	case e.refill <- struct{}{}:
	default:
	}
}

// startRefiller keeps n fresh sessions ready once the first NewSession asks
// (primed); Close stops it.
func (e *Env) startRefiller(n int) {
	ctx, stop := context.WithCancel(context.Background())
	e.stop = stop
	e.warm = make(chan *Session, n)
	e.refill = make(chan struct{}, n)
	e.refiller.Add(1)
	go func() {
		defer e.refiller.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case <-e.refill:
			}
			octx, cancel := context.WithTimeout(ctx, 30*time.Second)
			if _, err := e.liveBrowser(octx); err != nil {
				cancel()
				continue // the next NewSession reports the error
			}
			s, err := e.openSession(octx)
			cancel()
			if err != nil {
				continue
			}
			select {
			case e.warm <- s:
			case <-ctx.Done():
				s.Close()
				return
			}
		}
	}()
}

// Close closes Chrome (gracefully, then by force) and the origins, and removes Chrome's temp folder.
func (e *Env) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	e.mu.Unlock()
	if e.stop != nil {
		e.stop()
		e.refiller.Wait()
		for len(e.warm) > 0 {
			(<-e.warm).Close()
		}
	}
	e.mu.Lock()
	b := e.browser
	e.mu.Unlock()
	err := release(b)
	e.Origins.Close()
	return err
}

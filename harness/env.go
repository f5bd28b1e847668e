// Package harness drives a real headless Chrome against corslab's loopback
// origins and reports every cross-origin request three ways: what the page's
// JavaScript saw, what Chrome did (DevTools protocol), and what the server
// received (its journal).
package harness

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/corslab/corslab/servers"
)

// Options configure an Env; the zero value launches the Chrome FindChrome
// finds against the default origin pair on 127.0.0.1.
type Options struct {
	// Servers choose the origins: names (app.test/api.test), TLS, a user's API handler.
	Servers servers.Options
	// ChromePath is the Chrome binary; "" means $CORSLAB_CHROME, then PATH.
	ChromePath string
	// ChromeFlags are extra command-line flags, e.g. {"ip-address-space-overrides": "..."}.
	// Flags that switch off web security are refused.
	ChromeFlags map[string]any
	// ThirdPartyCookies launches Chrome with third-party cookies allowed
	// (Chromium blocks them by default).
	ThirdPartyCookies bool
	// AllowRemoteTargets lets a Request.URL name a host that is not on this machine.
	AllowRemoteTargets bool
	// RequestTimeout bounds one Do when its context has no deadline; 0 means 20 s.
	RequestTimeout time.Duration
}

// Env is a running Chrome plus the origins it tests. The caller must call Close when finished.
type Env struct {
	Origins *servers.Origins
	opts    Options
	browser *browser

	mu     sync.Mutex
	shared *Session
	closed bool
}

// forbiddenFlags would make the test meaningless: corslab tests a browser that enforces CORS.
var forbiddenFlags = []string{"disable-web-security", "ignore-certificate-errors", "disable-features=IsolateOrigins", "user-data-dir", "remote-debugging-port", "remote-debugging-pipe"}

// Start starts the origins and launches Chrome; on error nothing is left running.
// ctx bounds the start only, not the life of the Env.
func Start(ctx context.Context, opts Options) (*Env, error) {
	for k := range opts.ChromeFlags {
		for _, f := range forbiddenFlags {
			if k == f {
				return nil, fmt.Errorf("harness: Chrome flag --%s is not allowed: corslab must test a browser that enforces CORS, with the profile it manages", k)
			}
		}
	}
	path, err := FindChrome(opts.ChromePath)
	if err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	origins, err := servers.Start(opts.Servers)
	if err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	b, err := launch(ctx, launchConfig{
		path:       path,
		hostRule:   "MAP *.test " + bindAddr(opts.Servers),
		spki:       origins.SPKI,
		extraFlags: opts.ChromeFlags,
		thirdParty: opts.ThirdPartyCookies,
	})
	if err != nil {
		origins.Close()
		return nil, fmt.Errorf("harness: %w", err)
	}
	return &Env{Origins: origins, opts: opts, browser: b}, nil
}

func bindAddr(o servers.Options) string {
	if o.Bind != "" {
		return o.Bind
	}
	return "127.0.0.1"
}

// ChromeVersion is what the launched Chrome printed for --version.
func (e *Env) ChromeVersion() string { return e.browser.version }

// ChromePath is the Chrome binary the Env launched.
func (e *Env) ChromePath() string { return e.browser.path }

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
	defer e.mu.Unlock()
	if e.closed {
		return nil, errors.New("harness: the Env is closed")
	}
	if e.shared != nil && e.shared.alive() {
		return e.shared, nil
	}
	s, err := e.NewSession(ctx)
	if err != nil {
		return nil, err
	}
	e.shared = s
	return s, nil
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
	err := e.browser.close()
	e.Origins.Close()
	return err
}

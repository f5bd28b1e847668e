package harness

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/corslab/corslab/harness/verdict"
)

// The engine seam. Env and Session speak to every browser through these
// interfaces; each engine package (harness/chromium, harness/firefox,
// harness/webkit) implements them in its own protocol and registers itself
// with Register from its init, as database/sql drivers do. Nothing in this
// package speaks a browser protocol.

// Engine drives one kind of browser.
type Engine interface {
	// Name is the engine's name.
	Name() verdict.Engine
	// Launch starts a browser for cfg (or attaches to a running one when
	// cfg.RemoteURL is set and the engine can); on error nothing is left running.
	Launch(ctx context.Context, cfg LaunchConfig) (Browser, error)
}

// LaunchConfig is what a browser must know to test corslab's origins.
type LaunchConfig struct {
	// Path is the browser binary; "" lets the engine find it.
	Path string
	// RemoteURL attaches to a browser that already runs (Chromium's DevTools URL).
	RemoteURL string
	// Names are the host names the browser must resolve to Addr (the origins'
	// names, e.g. "app.test", "api.test", "other.test").
	Names []string
	// Addr is the address the origins listen on.
	Addr string
	// SPKI is the base64 SHA-256 of the origins' certificate key, the only
	// certificate the browser may trust beyond its own; "" for plain HTTP.
	SPKI string
	// Certificate is that certificate (DER), for engines that trust a certificate rather than a key.
	Certificate []byte
	// ThirdPartyCookies allows third-party cookies (every engine's default blocks some).
	ThirdPartyCookies bool
	// Flags are engine-specific settings: Chromium's command-line flags.
	Flags map[string]string
	// StartTimeout bounds the launch; 0 means the engine's default.
	StartTimeout time.Duration
}

// Key is what two launches must agree on to share one browser.
func (c LaunchConfig) Key() string {
	flags := make([]string, 0, len(c.Flags))
	for _, k := range slices.Sorted(maps.Keys(c.Flags)) {
		flags = append(flags, k+"="+c.Flags[k])
	}
	return strings.Join([]string{c.Path, c.RemoteURL, strings.Join(c.Names, ","), c.Addr, c.SPKI,
		fmt.Sprint(c.ThirdPartyCookies), strings.Join(flags, "\x00")}, "\x01")
}

// Browser is one running browser of an engine.
type Browser interface {
	// Version is what the browser reports for its version.
	Version() string
	// Path is the binary it runs, or the URL it was attached at.
	Path() string
	// Done is closed when the browser has exited (or its connection is lost).
	Done() <-chan struct{}
	// Err says why the browser ended; nil while it runs.
	Err() error
	// NewContext opens a fresh browser context: its own cookies and caches.
	NewContext(ctx context.Context) (BrowserContext, error)
	// Memory is the browser's memory in bytes (summed PSS of its processes); 0 when unknown.
	Memory() int64
	// Close closes the browser (an attached one is left running) and removes what it left on disk.
	Close() error
}

// BrowserContext is one browser context: a cookie jar and caches shared by its tabs.
type BrowserContext interface {
	// Open opens a tab in this context showing page.
	Open(ctx context.Context, page Page) (Tab, error)
	// SetCookie stores a cookie as if url's response had sent the Set-Cookie line.
	SetCookie(ctx context.Context, url, setCookie string) error
	// Grant grants a permission (a Permissions API name) to origin in this context only.
	Grant(ctx context.Context, origin, permission string) error
	// Close closes the context and its tabs.
	Close() error
}

// Page says what a new tab shows.
type Page struct {
	// URL is the page to load: a page of corslab's page origin.
	URL string
	// As, when set, is an origin the page runs as (e.g. https://app.example.com):
	// the engine answers the document at As + "/" itself with HTML, refuses
	// every other request to As, and sends everything else over the network.
	As string
	// HTML is the document served for As.
	HTML string
}

// Tab is one page in a browser context.
type Tab interface {
	// Send runs desc (the request description cors.js's corslab.run takes) in
	// the page, and returns what the page saw and what the engine did with
	// the requests whose URL carries token. The engine calls server, once,
	// when its own account has caught up with the page, to collect the
	// server's view; Send returns that view too.
	Send(ctx context.Context, desc []byte, token string, server func(context.Context) ServerView) (Sent, error)
	// Navigate loads url in the tab as a top-level visit.
	Navigate(ctx context.Context, url string) error
	// Close closes the tab.
	Close() error
}

// A Tab that implements InFlight runs up to InFlight() Sends at once (the
// page's JavaScript starts each request and the engine keeps their events
// apart by token); a Tab that does not runs one at a time.
type InFlight interface {
	InFlight() int
}

// inFlight is how many Sends t runs at once.
func inFlight(t Tab) int {
	if f, ok := t.(InFlight); ok {
		return max(1, f.InFlight())
	}
	return 1
}

// Sent is what a Tab reports for one request.
type Sent struct {
	Page    PageView
	Browser BrowserView
	Server  ServerView
	// Notes are things the engine noticed, such as events that did not complete in time.
	Notes []string
	// Page and Browser phases of the request's time, measured by the engine.
	PageTime, BrowserTime time.Duration
}

// ErrBrowserDied is wrapped by the errors of requests whose browser exited under them.
var ErrBrowserDied = errors.New("the browser died")

// ErrUnsupported is wrapped by the errors of operations an engine cannot do.
var ErrUnsupported = errors.New("not supported by this engine")

var engines = struct {
	sync.Mutex
	byName map[verdict.Engine]Engine
}{byName: map[verdict.Engine]Engine{}}

// Register makes an engine available to Start under its name. It panics when
// the name is registered twice.
func Register(e Engine) {
	engines.Lock()
	defer engines.Unlock()
	if _, dup := engines.byName[e.Name()]; dup {
		panic("harness: engine " + string(e.Name()) + " registered twice")
	}
	engines.byName[e.Name()] = e
}

// engineNamed returns the registered engine called name.
func engineNamed(name verdict.Engine) (Engine, error) {
	engines.Lock()
	defer engines.Unlock()
	if e, ok := engines.byName[name]; ok {
		return e, nil
	}
	return nil, fmt.Errorf("no %s engine is linked into this program: import _ %q (or %q for every engine)",
		name, "github.com/corslab/corslab/harness/"+string(name), "github.com/corslab/corslab/harness/engines")
}

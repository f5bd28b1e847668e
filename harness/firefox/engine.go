// Package firefox is corslab's Firefox engine: it launches an isolated
// headless Firefox and drives it over WebDriver BiDi (no geckodriver),
// behind the harness's engine seam. Each harness.BrowserContext is a BiDi
// user context (its own cookies, HTTP cache and preflight cache), each Tab a
// background tab; Send runs cors.js in the page and reads Firefox's account
// of the request from its network events and, for the reason a request was
// blocked, from its console (a chrome-scope listener that sees each
// message's category). Every file of corslab that speaks BiDi is here.
package firefox

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/verdict"
)

func init() { harness.Register(Engine{}) }

// Engine is the Firefox engine; it registers itself with the harness when
// this package is imported.
type Engine struct{}

// Name is verdict.Firefox.
func (Engine) Name() verdict.Engine { return verdict.Firefox }

// FirefoxEnv is the environment variable that names the Firefox binary to use.
const FirefoxEnv = "CORSLAB_FIREFOX"

// InstallHint is what to do when no Firefox is found.
const InstallHint = "install Firefox ESR with `sudo apt-get update && sudo apt-get install -y --no-install-recommends firefox-esr` (or run scripts/install-browsers), or set " + FirefoxEnv + " to a Firefox binary"

// firefoxNames are looked up on PATH, in this order.
var firefoxNames = []string{"firefox-esr", "firefox"}

// Find returns the Firefox binary to launch: explicit (when not empty), then
// $CORSLAB_FIREFOX, then firefox-esr or firefox on PATH.
func Find(explicit string) (string, error) {
	candidate, from := explicit, "the Firefox path option"
	if candidate == "" {
		candidate, from = os.Getenv(FirefoxEnv), "$"+FirefoxEnv
	}
	if candidate != "" {
		path, err := exec.LookPath(candidate)
		if err != nil {
			return "", fmt.Errorf("firefox from %s (%q) is not an executable file: %w; %s", from, candidate, err, InstallHint)
		}
		return path, nil
	}
	for _, name := range firefoxNames {
		if path, err := exec.LookPath(name); err == nil {
			return path, nil
		}
	}
	return "", fmt.Errorf("no Firefox found on PATH (looked for %s): %s", strings.Join(firefoxNames, ", "), InstallHint)
}

// Launch launches Firefox for cfg. It cannot attach to a running browser
// (cfg.RemoteURL), and cfg.Flags, Chromium's command-line flags, are not
// for it. Names resolve to loopback through network.dns.localDomains, so
// with names the origins must listen on 127.0.0.1; cfg.Certificate becomes
// the one trust anchor added to the profile.
func (Engine) Launch(ctx context.Context, cfg harness.LaunchConfig) (harness.Browser, error) {
	if cfg.RemoteURL != "" {
		return nil, fmt.Errorf("firefox: attaching to a running browser (%s) is for Chromium only: %w", cfg.RemoteURL, harness.ErrUnsupported)
	}
	if len(cfg.Names) > 0 && !localhost(cfg.Addr) {
		return nil, fmt.Errorf("firefox: the origins' names (%s) must resolve to %s, but Firefox's network.dns.localDomains resolves every name it lists to localhost (127.0.0.1) and to nothing else: "+
			"to test named origins in Firefox, bind them on 127.0.0.1 (servers.Options.Bind), or serve them by address (no Names)", strings.Join(cfg.Names, ", "), cfg.Addr)
	}
	path, err := Find(cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("firefox: %w", err)
	}
	b, err := launch(ctx, config{path: path, names: cfg.Names, cert: cfg.Certificate, thirdParty: cfg.ThirdPartyCookies, startTimeout: cfg.StartTimeout})
	if err != nil {
		return nil, fmt.Errorf("firefox: %w", err)
	}
	return b, nil
}

// localhost reports whether addr is where Firefox sends the names of network.dns.localDomains.
func localhost(addr string) bool {
	switch addr {
	case "", "127.0.0.1", "localhost":
		return true
	}
	return false
}

// NewContext creates a BiDi user context: its own cookies, HTTP cache and preflight cache.
func (b *browser) NewContext(ctx context.Context) (harness.BrowserContext, error) {
	var r struct {
		UserContext string `json:"userContext"`
	}
	if err := b.call(ctx, "browser.createUserContext", nil, &r); err != nil {
		return nil, fmt.Errorf("create a user context: %w", err)
	}
	return &browserContext{b: b, id: r.UserContext}, nil
}

// browserContext is one BiDi user context.
type browserContext struct {
	b  *browser
	id string

	mu     sync.Mutex
	tabs   []*tab
	closed bool
}

// Open opens a background tab in the context on page and waits until cors.js is ready.
func (c *browserContext) Open(ctx context.Context, page harness.Page) (harness.Tab, error) {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return nil, errors.New("open a tab: the browser context is closed")
	}
	target := page.URL
	var origin *url.URL
	if page.As != "" {
		o, err := harness.CheckPageOrigin(page.As)
		if err != nil {
			return nil, err
		}
		if origin, err = url.Parse(o); err != nil {
			return nil, err
		}
		target = o + "/"
		if err := c.b.resolveLocally(ctx, origin.Hostname()); err != nil {
			return nil, fmt.Errorf("open %s: %w", target, err)
		}
	}
	var r struct {
		Context string `json:"context"`
	}
	if err := c.b.call(ctx, "browsingContext.create", map[string]any{"type": "tab", "userContext": c.id, "background": true}, &r); err != nil {
		return nil, fmt.Errorf("open a tab: %w", err)
	}
	t := &tab{b: c.b, id: r.Context, obs: newObserver(c.b.events)}
	c.b.events.addContext(t.id, t.obs)
	c.mu.Lock()
	c.tabs = append(c.tabs, t)
	c.mu.Unlock()
	err := func() error {
		if origin != nil {
			if err := t.impersonate(ctx, origin, page.HTML); err != nil {
				return err
			}
		}
		if err := t.navigate(ctx, target); err != nil {
			return err
		}
		return t.checkPage(ctx)
	}()
	if err != nil {
		_ = t.Close()
		return nil, fmt.Errorf("open %s: %w", target, err)
	}
	return t, nil
}

// SetCookie stores a cookie, written as a Set-Cookie line, for rawURL in the
// context's cookie jar: the unpartitioned jar a first-party visit to rawURL
// uses. The Path defaults to "/".
func (c *browserContext) SetCookie(ctx context.Context, rawURL, line string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("set cookie for %s: %w", rawURL, err)
	}
	hc, err := http.ParseSetCookie(line)
	if err != nil {
		return fmt.Errorf("cookie %q: %w", line, err)
	}
	path := hc.Path
	if path == "" {
		path = "/"
	}
	ck := map[string]any{
		"name":     hc.Name,
		"value":    map[string]any{"type": "string", "value": hc.Value},
		"domain":   u.Hostname(),
		"path":     path,
		"httpOnly": hc.HttpOnly,
		"secure":   hc.Secure,
	}
	if hc.Domain != "" {
		ck["domain"] = hc.Domain
	}
	switch hc.SameSite {
	case http.SameSiteNoneMode:
		ck["sameSite"] = "none"
	case http.SameSiteLaxMode:
		ck["sameSite"] = "lax"
	case http.SameSiteStrictMode:
		ck["sameSite"] = "strict"
	}
	if !hc.Expires.IsZero() {
		ck["expiry"] = hc.Expires.Unix()
	} else if hc.MaxAge > 0 {
		ck["expiry"] = time.Now().Add(time.Duration(hc.MaxAge) * time.Second).Unix()
	}
	part := map[string]any{"type": "storageKey", "userContext": c.id}
	if err := c.b.call(ctx, "storage.setCookie", map[string]any{"cookie": ck, "partition": part}, nil); err != nil {
		return fmt.Errorf("set cookie %s for %s: %w", hc.Name, rawURL, err)
	}
	return nil
}

// Grant is not supported: Firefox asks for no local-network permission for
// a page to reach loopback, so there is nothing to grant.
func (c *browserContext) Grant(_ context.Context, origin, permission string) error {
	return fmt.Errorf("firefox: grant %s to %s: %w: Firefox needs no permission for a page to reach a loopback server", permission, origin, harness.ErrUnsupported)
}

// Close closes the context's tabs and removes the user context with its
// cookies and caches; a dead browser has none left. It is safe to call more than once.
func (c *browserContext) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	tabs := c.tabs
	c.tabs = nil
	c.mu.Unlock()
	for _, t := range tabs {
		t.release()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.b.call(ctx, "browser.removeUserContext", map[string]any{"userContext": c.id}, nil); err != nil && !c.b.gone(err) {
		return fmt.Errorf("firefox: close user context %s: %w", c.id, err)
	}
	return nil
}

// gone reports whether err says the browser is no longer there (so its contexts and tabs went with it).
func (b *browser) gone(err error) bool {
	return errors.Is(err, harness.ErrBrowserDied) || errors.Is(err, errClosed) || errors.Is(err, errConnClosed)
}

package webkit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/verdict"
)

func init() { harness.Register(Engine{}) }

// Engine is the WebKit engine (WebKitGTK's MiniBrowser under Xvfb, driven
// through its remote Web Inspector); it registers itself with the harness
// when this package is imported.
type Engine struct{}

// Name is verdict.WebKit.
func (Engine) Name() verdict.Engine { return verdict.WebKit }

// Launch starts Xvfb and a MiniBrowser for cfg: cfg.Path, else
// $CORSLAB_WEBKIT, else the MiniBrowser of libwebkit2gtk-4.1-0. The
// origins' names (cfg.Names) and certificate (cfg.Certificate) reach it
// through a private mount namespace (see sandbox.go), needed only when
// they are set. cfg.Flags are Chromium's and are not used.
func (Engine) Launch(ctx context.Context, cfg harness.LaunchConfig) (harness.Browser, error) {
	if cfg.RemoteURL != "" {
		return nil, errors.New("webkit: LaunchConfig.RemoteURL attaches to a running Chromium only; WebKit is always launched")
	}
	path, err := findMiniBrowser(cfg.Path)
	if err != nil {
		return nil, err
	}
	timeout := cfg.StartTimeout
	if timeout <= 0 {
		timeout = startTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return launch(ctx, launchConfig{path: path, names: cfg.Names, addr: cfg.Addr, cert: cfg.Certificate, thirdParty: cfg.ThirdPartyCookies})
}

// NewContext returns a fresh browser context: a MiniBrowser of its own
// (own network process, cookies, HTTP and preflight caches). It takes a
// spare one when one is ready (the launch's first, or a recycled one), and
// else starts one: a spare still being cleared is not waited for, its
// clear waits for the HTTP cache's writes (cacheWriteDelay), longer than a
// launch.
func (b *browser) NewContext(ctx context.Context) (harness.BrowserContext, error) {
	c, err := b.takeContext(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.uses++
	c.mu.Unlock()
	return &browserContext{b: b, c: c, tabs: map[*htab]bool{}}, nil
}

// takeContext returns a spare MiniBrowser, or starts one.
func (b *browser) takeContext(ctx context.Context) (*bcontext, error) {
	for {
		b.mu.Lock()
		if b.closed {
			b.mu.Unlock()
			return nil, errClosed
		}
		if n := len(b.spares); n > 0 {
			c := b.spares[n-1]
			b.spares = b.spares[:n-1]
			b.mu.Unlock()
			if c.proc.exited() {
				c.kill()
				continue
			}
			return c, nil
		}
		b.mu.Unlock()
		return b.startContext(ctx)
	}
}

// browserContext is the harness's view of one MiniBrowser it holds.
type browserContext struct {
	b *browser
	c *bcontext

	mu     sync.Mutex
	tabs   map[*htab]bool
	closed bool
}

// Open opens a tab in the context on page and returns once cors.js is ready.
func (bc *browserContext) Open(ctx context.Context, page harness.Page) (harness.Tab, error) {
	bc.mu.Lock()
	closed := bc.closed
	bc.mu.Unlock()
	if closed {
		return nil, errors.New("webkit: the browser context is closed")
	}
	url := page.URL
	h := &htab{bc: bc, origin: originOf(url)}
	if page.As != "" {
		o, err := harness.CheckPageOrigin(page.As)
		if err != nil {
			return nil, fmt.Errorf("webkit: %w", err)
		}
		h.ic, h.origin, url = newInterceptor(o, page.HTML), o, o+"/"
	}
	t, err := bc.c.claim(ctx)
	if err != nil {
		return nil, err
	}
	h.t = t
	if err := h.open(ctx, url); err != nil {
		_ = h.Close()
		return nil, err
	}
	bc.mu.Lock()
	bc.tabs[h] = true
	bc.mu.Unlock()
	return h, nil
}

func (h *htab) open(ctx context.Context, url string) error {
	if h.ic != nil {
		if err := h.ic.start(ctx, h.t); err != nil {
			return fmt.Errorf("webkit: prepare the tab for %s: %w", url, h.t.c.explain(err))
		}
	}
	if err := h.t.Navigate(ctx, url); err != nil {
		return err
	}
	if _, err := h.t.runnerID(ctx); err != nil {
		return fmt.Errorf("webkit: open %s: %w", url, err)
	}
	return nil
}

// SetCookie stores a cookie in the context as if url's response had sent the line.
func (bc *browserContext) SetCookie(ctx context.Context, url, line string) error {
	return bc.c.first.setCookie(ctx, url, line)
}

// Grant is not supported: WebKit's inspector has no command that grants a permission.
func (bc *browserContext) Grant(ctx context.Context, origin, permission string) error {
	return fmt.Errorf("webkit: grant %s to %s: WebKit's inspector has no command that grants a permission: %w", permission, origin, harness.ErrUnsupported)
}

// Close closes the context's tabs and gives its MiniBrowser back: it is
// stopped (or, see recycle, cleared for the next context).
func (bc *browserContext) Close() error {
	bc.mu.Lock()
	if bc.closed {
		bc.mu.Unlock()
		return nil
	}
	bc.closed = true
	var hs []*htab
	for h := range bc.tabs {
		hs = append(hs, h)
	}
	bc.mu.Unlock()
	for _, h := range hs {
		_ = h.Close()
	}
	bc.b.giveBack(bc.c)
	return nil
}

// A MiniBrowser a harness context gave back is cleared (reset) in the
// background and kept as a spare for the next NewContext, rather than
// stopped: a launch takes ~0.6-1.2 s on this shared machine and most of a
// core, a reset ~1.7 s that is mostly waiting (cacheWriteDelay), so the
// spare is ready ~1.7 s after the Close. One spare is enough for the harness's pattern (a
// session closes, the warm pool refills); a spare holds what a session's
// MiniBrowser holds (~280 MiB PSS: MiniBrowser, network process, the tab's
// web process). One that served maxUses contexts is stopped, so that what a
// long-lived MiniBrowser gathers is bounded.
const (
	maxSpares = 1
	maxUses   = 25
)

// giveBack takes back a MiniBrowser a harness context held: it is reset
// and kept as a spare, or stopped.
func (b *browser) giveBack(c *bcontext) {
	c.mu.Lock()
	reuse := !c.firstBusy && c.uses < maxUses && !c.proc.exited()
	c.mu.Unlock()
	b.mu.Lock()
	if !reuse || b.closed || !b.alive() || len(b.spares)+b.pending >= maxSpares {
		b.mu.Unlock()
		c.kill()
		return
	}
	b.pending++
	b.bg.Add(1)
	b.mu.Unlock()
	go func() {
		defer b.bg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		err := c.reset(ctx)
		cancel()
		b.mu.Lock()
		b.pending--
		keep := err == nil && !b.closed
		if keep {
			b.spares = append(b.spares, c)
		}
		b.mu.Unlock()
		if !keep {
			c.kill()
		}
	}()
}

// htab is the harness's handle on a tab: the initial tab of a MiniBrowser
// serves several in turn.
type htab struct {
	bc     *browserContext
	t      *tab
	ic     *interceptor // set for a page that runs as another origin
	origin string       // the page's origin

	mu     sync.Mutex
	closed bool
}

// Navigate loads url in the tab as a top-level visit.
func (h *htab) Navigate(ctx context.Context, url string) error {
	if h.isClosed() {
		return errors.New("webkit: the tab is closed")
	}
	return h.t.Navigate(ctx, url)
}

func (h *htab) isClosed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closed
}

// Intercepted returns the URLs the tab's interception answered or failed,
// in order: the page document and nothing else; nil for a page of
// corslab's page origin.
func (h *htab) Intercepted() []string {
	if h.ic == nil {
		return nil
	}
	return h.ic.urls()
}

// Close closes the tab: the MiniBrowser's initial tab is released (its
// interception removed) for the next tab of the context; a tab window.open
// made is closed.
func (h *htab) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	h.mu.Unlock()
	h.bc.mu.Lock()
	delete(h.bc.tabs, h)
	h.bc.mu.Unlock()
	t, c := h.t, h.bc.c
	if t == nil {
		return nil
	}
	if !t.isFirst {
		t.closeTab()
		return nil
	}
	c.mu.Lock()
	// Its interception is removed when the tab is next claimed or reset:
	// not here, where it would cost two round trips of every session's Close.
	c.firstIC = h.ic
	c.firstBusy = false
	c.mu.Unlock()
	return nil
}

package chromium

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/verdict"
)

func init() { harness.Register(Engine{}) }

// Engine is the Chromium engine; it registers itself with the harness when
// this package is imported.
type Engine struct{}

// Name is verdict.Chromium.
func (Engine) Name() verdict.Engine { return verdict.Chromium }

// forbiddenFlags would make the test meaningless: corslab tests a browser that enforces CORS.
var forbiddenFlags = []string{"disable-web-security", "ignore-certificate-errors", "user-data-dir",
	"remote-debugging-port", "remote-debugging-pipe", "disable-site-isolation-trials"}

// Launch launches Chromium (or attaches to cfg.RemoteURL) with web security on.
func (Engine) Launch(ctx context.Context, cfg harness.LaunchConfig) (harness.Browser, error) {
	for k := range cfg.Flags {
		for _, f := range forbiddenFlags {
			if strings.TrimLeft(k, "-") == f {
				return nil, fmt.Errorf("chromium: flag --%s is not allowed: corslab must test a browser that enforces CORS, with the profile it manages", k)
			}
		}
	}
	lc := launchConfig{remoteURL: cfg.RemoteURL, spki: cfg.SPKI, extraFlags: cfg.Flags, thirdParty: cfg.ThirdPartyCookies, startTimeout: cfg.StartTimeout}
	var rules []string
	for _, n := range cfg.Names {
		rules = append(rules, "MAP "+n+" "+cfg.Addr)
	}
	lc.hostRule = strings.Join(rules, ", ")
	if lc.remoteURL == "" {
		path, err := Find(cfg.Path)
		if err != nil {
			return nil, fmt.Errorf("chromium: %w", err)
		}
		lc.path = path
	}
	b, err := start(ctx, lc)
	if err != nil {
		return nil, fmt.Errorf("chromium: %w", err)
	}
	return b, nil
}

// Version is what Chrome reports for its version.
func (b *browser) Version() string { return b.version }

// Path is the binary, or the DevTools URL of an attached browser.
func (b *browser) Path() string { return b.path }

// Done is closed when Chrome has exited or its connection is lost.
func (b *browser) Done() <-chan struct{} { return b.ctx.Done() }

// Err says why Chrome ended; nil while it runs.
func (b *browser) Err() error {
	if b.ctx.Err() == nil {
		return nil
	}
	return context.Cause(b.ctx)
}

// Memory is the summed PSS of Chrome's processes; 0 for an attached browser.
func (b *browser) Memory() int64 { return b.rss() }

// Close shuts Chrome down (see close).
func (b *browser) Close() error { return b.close() }

// NewContext creates a browser context: its own cookies, HTTP cache and preflight cache.
func (b *browser) NewContext(ctx context.Context) (harness.BrowserContext, error) {
	cctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	res, err := chromedp.CallBrowser(cctx, target.CreateBrowserContext, target.CreateBrowserContextParams{})
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("create a browser context: %w", err)
	}
	return &browserContext{b: b, id: res.BrowserContextID}, nil
}

// browserContext is one Chrome browser context.
type browserContext struct {
	b  *browser
	id cdp.BrowserContextID
}

// Open opens a hidden tab in the context on page and waits until cors.js is ready.
func (c *browserContext) Open(ctx context.Context, page harness.Page) (harness.Tab, error) {
	cp := newCapture()
	tctx, cancel, err := c.b.newHiddenTab(ctx, c.id, cp.listen)
	if err != nil {
		return nil, err
	}
	t := &tab{b: c.b, bc: c.id, ctx: tctx, cancel: cancel, cap: cp}
	url := page.URL
	var prepare func(context.Context) error
	if page.As != "" {
		t.ic = &interceptor{origin: page.As, html: page.HTML, bc: c.id}
		prepare = t.ic.start
		url = page.As + "/"
	}
	if err := t.open(ctx, url, prepare); err != nil {
		cancel()
		return nil, err
	}
	return t, nil
}

// SetCookie stores a cookie in the context as if url's response had sent the line.
func (c *browserContext) SetCookie(ctx context.Context, url, line string) error {
	return setCookie(ctx, c.b, c.id, url, line)
}

// Grant grants permission to origin in this context (Browser.setPermission).
func (c *browserContext) Grant(ctx context.Context, origin, permission string) error {
	return grant(ctx, c.b, c.id, origin, permission)
}

// Close disposes of the context and its tabs; a dead browser has none left.
func (c *browserContext) Close() error {
	c.b.disposeContext(c.id)
	return nil
}

// tab is one hidden Chrome tab and its network capture.
type tab struct {
	b      *browser
	bc     cdp.BrowserContextID
	ctx    context.Context // the chromedp context of the tab
	cancel context.CancelFunc
	cap    *capture
	ic     *interceptor // set for a page that runs as another origin
}

// open navigates the tab to page, after prepare (if any), and checks that cors.js loaded.
func (t *tab) open(ctx context.Context, page string, prepare func(tab context.Context) error) error {
	// The first Do creates the tab and binds it to t.ctx, so it runs
	// unbounded in a goroutine and ctx bounds the wait.
	done := make(chan error, 1)
	go func() {
		if prepare != nil {
			if err := prepare(t.ctx); err != nil {
				done <- err
				return
			}
		}
		done <- chromedp.Do(t.ctx, chromedp.Navigate(page))
	}()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err == nil {
		err = t.checkPage(ctx)
	}
	if err != nil {
		return fmt.Errorf("open %s: %w", page, err)
	}
	return nil
}

// checkPage makes sure the runner script loaded.
func (t *tab) checkPage(ctx context.Context) error {
	rctx, cancel := t.bind(ctx)
	defer cancel()
	ok, err := chromedp.Run(rctx, chromedp.Evaluate[bool](`typeof corslab === "object" && typeof createCORSRequest === "function"`))
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("the page did not load cors.js")
	}
	return nil
}

// bind returns a context that runs actions in the tab but ends when ctx
// ends (and has ctx's deadline), so every wait is the caller's.
func (t *tab) bind(ctx context.Context) (context.Context, context.CancelFunc) {
	c, cancel := context.WithCancelCause(t.ctx)
	stop := context.AfterFunc(ctx, func() { cancel(context.Cause(ctx)) })
	if dl, ok := ctx.Deadline(); ok {
		var cancelDL context.CancelFunc
		c, cancelDL = context.WithDeadline(c, dl)
		return c, func() { stop(); cancelDL(); cancel(nil) }
	}
	return c, func() { stop(); cancel(nil) }
}

// Navigate loads url in the tab as a top-level visit.
func (t *tab) Navigate(ctx context.Context, url string) error {
	rctx, cancel := t.bind(ctx)
	defer cancel()
	if err := chromedp.Do(rctx, chromedp.Navigate(url)); err != nil {
		return fmt.Errorf("navigate to %s: %w", url, err)
	}
	return nil
}

// InFlight is how many requests a tab runs at once: each is its own
// XMLHttpRequest or fetch in the page, its events kept apart by its token.
// Measured in Chromium 156 (make bench's matrix line): one page runs
// requests in parallel well past this; more in flight only queue.
func (t *tab) InFlight() int { return 8 }

// Close closes the tab.
func (t *tab) Close() error {
	t.cancel()
	return nil
}

// Intercepted returns the URLs Chrome paused for the page's own origin, in
// order: the page document and nothing else; nil for a page of corslab's page origin.
func (t *tab) Intercepted() []string {
	if t.ic == nil {
		return nil
	}
	return t.ic.urls()
}

// settle bounds the wait for the events that trail a request's end (extra
// info, the journal's final status): they belong to it but may come later.
const settle = 2 * time.Second

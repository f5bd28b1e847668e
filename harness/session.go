package harness

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/corslab/corslab/harness/model"
	"github.com/corslab/corslab/pages"
	"github.com/corslab/corslab/servers"
)

// settle bounds the wait for the server's last status after the page has its
// answer: a stalled answer ends only when the client leaves.
const settle = 2 * time.Second

// pageMargin is the time a request leaves, after the page's own timeout, to
// collect the browser's and the server's views.
const pageMargin = 1500 * time.Millisecond

// Session is one browser context of one engine with a tab on a page origin.
// Its cookies and preflight cache are its own. The caller must call Close
// when finished.
type Session struct {
	env     *Env
	lane    *lane
	browser Browser        // the browser the tab lives in
	bctx    BrowserContext // the tab's browser context
	owner   bool           // Close disposes of bctx too (the session made it)
	tab     Tab
	page    Page // what the tab shows between requests
	origin  string
	model   *model.Tab // predicts this tab's requests, with its context's preflight cache

	mu     sync.Mutex // guards closed
	closed bool
	// use keeps requests and visits apart: a request holds it shared when the
	// tab runs several at once (InFlight), else alone; a visit holds it alone.
	use sync.RWMutex
}

// openSession opens a fresh browser context with a tab showing page, whose requests come from origin.
func (l *lane) openSession(ctx context.Context, page Page, origin string) (*Session, error) {
	b, err := l.live(ctx)
	if err != nil {
		return nil, err
	}
	bctx, err := b.NewContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("harness: open a %s session on %s: %w", l.kind.Name(), origin, explain(b, err))
	}
	s := &Session{env: l.env, lane: l, browser: b, bctx: bctx, owner: true, origin: origin}
	if err := s.open(ctx, page); err != nil {
		_ = bctx.Close()
		return nil, err
	}
	return s, nil
}

// open opens the session's tab on page and makes its model.
func (s *Session) open(ctx context.Context, page Page) error {
	s.page = page
	if page.As != "" {
		s.page.URL = page.As + "/"
	}
	tab, err := s.bctx.Open(ctx, page)
	if err != nil {
		return fmt.Errorf("harness: open a %s tab on %s: %w", s.lane.kind.Name(), s.origin, explain(s.browser, err))
	}
	s.tab = tab
	if p, ok := model.For(s.lane.kind.Name()); ok {
		s.model = model.NewBrowser(p, s.origin).NewTab()
	}
	return nil
}

// explain wraps err with ErrBrowserDied when b exited under it.
func explain(b Browser, err error) error {
	if err == nil || alive(b) || errors.Is(err, ErrBrowserDied) {
		return err
	}
	return fmt.Errorf("%w (%s exited: %v); the next session gets a new browser: %w", ErrBrowserDied, b.Path(), b.Err(), err)
}

// Origin is the page origin this session's requests come from.
func (s *Session) Origin() string { return s.origin }

// Engine is the engine the session runs in.
func (s *Session) Engine() string { return string(s.lane.kind.Name()) }

func (s *Session) alive() bool {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	return !closed && alive(s.browser)
}

// Close closes the tab, and the browser context when the session made it.
func (s *Session) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	err := s.tab.Close()
	if s.owner {
		err = errors.Join(err, s.bctx.Close())
	}
	return err
}

// NewTab opens another tab on the page origin in the session's browser
// context: it shares the session's cookies and preflight cache. The caller
// must call Close on it when finished (closing only that tab).
func (s *Session) NewTab(ctx context.Context) (*Session, error) {
	return s.newTab(ctx, Page{URL: s.env.Origins.App.URL + "/"}, s.origin)
}

// NewSandboxedTab opens a tab, in the session's browser context, on the page
// origin's sandboxed page (CSP sandbox): its origin is opaque, so its requests
// carry Origin: null. The caller must call Close on it when finished.
func (s *Session) NewSandboxedTab(ctx context.Context) (*Session, error) {
	return s.newTab(ctx, Page{URL: s.env.Origins.App.URL + pages.SandboxedPath}, "null")
}

// NewTabAs opens a tab in the session's browser context whose page runs as
// origin (see Env.NewSessionAs): it shares the session's cookies, HTTP cache
// and preflight cache, so a response one origin's page fetched can be served
// to the other's from the HTTP cache. The caller must call Close on it.
func (s *Session) NewTabAs(ctx context.Context, origin string) (*Session, error) {
	o, err := s.env.checkImpersonated(origin)
	if err != nil {
		return nil, err
	}
	if o == s.env.Origins.App.URL {
		return s.NewTab(ctx)
	}
	return s.newTab(ctx, Page{As: o, HTML: pages.StandaloneHTML()}, o)
}

// Navigate visits url in the session's browser context as a person would
// (a top-level navigation, with the context's cookies), for servers that set
// their cookie on a page visit; then the session's page is loaded again,
// ready for the next Do.
func (s *Session) Navigate(ctx context.Context, url string) error {
	s.use.Lock()
	defer s.use.Unlock()
	if err := s.tab.Navigate(ctx, url); err != nil {
		return fmt.Errorf("harness: visit %s: %w", url, explain(s.browser, err))
	}
	if err := s.tab.Navigate(ctx, s.page.URL); err != nil {
		return fmt.Errorf("harness: back to %s after the visit: %w", s.page.URL, explain(s.browser, err))
	}
	return nil
}

func (s *Session) newTab(ctx context.Context, page Page, origin string) (*Session, error) {
	t := &Session{env: s.env, lane: s.lane, browser: s.browser, bctx: s.bctx, origin: origin}
	if err := t.open(ctx, page); err != nil {
		return nil, err
	}
	if origin == s.origin && s.model != nil {
		// A tab of the same origin shares the context's preflight cache, so its model too.
		t.model = s.model.Browser().NewTab()
	}
	return t, nil
}

// SetCookie stores a cookie in the session's browser context as if rawURL's
// response had sent the Set-Cookie line (name=value and attributes: Path,
// Domain, Secure, HttpOnly, SameSite). The Path defaults to "/".
func (s *Session) SetCookie(ctx context.Context, rawURL, setCookie string) error {
	if err := s.bctx.SetCookie(ctx, rawURL, setCookie); err != nil {
		return fmt.Errorf("harness: %w", explain(s.browser, err))
	}
	return nil
}

// LoopbackNetwork is the permission that lets a public page reach a loopback
// address under Chromium's Local Network Access. Measured in Chromium 156:
// granting "local-network-access" or "local-network" does not let such a
// request through; "loopback-network" does.
const LoopbackNetwork = "loopback-network"

// Grant grants permission (a Permissions API name, e.g. LoopbackNetwork) to
// the session's page origin in the session's browser context only, with no
// prompt.
func (s *Session) Grant(ctx context.Context, permission string) error {
	if err := s.bctx.Grant(ctx, s.origin, permission); err != nil {
		return fmt.Errorf("harness: grant %s to %s: %w", permission, s.origin, explain(s.browser, err))
	}
	return nil
}

// Intercepted returns the URLs the engine answered or refused itself for
// this session's page origin, in order: for a session from NewSessionAs, the
// page document and nothing else; nil for a session on corslab's own page origin.
func (s *Session) Intercepted() []string {
	if t, ok := s.tab.(interface{ Intercepted() []string }); ok {
		return t.Intercepted()
	}
	return nil
}

// RequestURL is the URL req will be sent to with token (what Result.URL will be).
func (s *Session) RequestURL(req Request, token string) (string, error) {
	return req.Resolve(s.env.Bases(), token)
}

// Do sends req from the session's page and returns the three views of it.
// It is bounded by ctx (or Options.RequestTimeout when ctx has no deadline).
func (s *Session) Do(ctx context.Context, req Request) (Result, error) {
	if err := req.Validate(s.env.opts.AllowRemoteTargets); err != nil {
		return Result{}, fmt.Errorf("harness: %w", err)
	}
	if _, ok := ctx.Deadline(); !ok {
		timeout := s.env.opts.RequestTimeout
		if timeout == 0 {
			timeout = 20 * time.Second
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	if inFlight(s.tab) > 1 {
		s.use.RLock()
		defer s.use.RUnlock()
	} else {
		s.use.Lock()
		defer s.use.Unlock()
	}
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return Result{}, errors.New("harness: the session is closed")
	}

	token := req.Token
	if token == "" {
		token = NewToken()
	}
	res := Result{Engine: s.lane.kind.Name(), Request: req, Token: token, PageOrigin: s.origin}
	res.Request.Token = token
	var err error
	if res.URL, err = req.Resolve(s.env.Bases(), token); err != nil {
		return res, fmt.Errorf("harness: %w", err)
	}
	recorded := s.env.records(res.URL)
	res.Predicted = s.predict(req, res.URL)

	timeout := req.Timeout
	if timeout == 0 {
		// A server that never answers must end as "timeout" in the page, with
		// time left to collect the other two views, not as a hung wait.
		dl, _ := ctx.Deadline()
		timeout = max(100*time.Millisecond, time.Until(dl)-pageMargin)
	}
	desc, err := req.description(res.URL, timeout)
	if err != nil {
		return res, fmt.Errorf("harness: %w", err)
	}

	journal := s.env.Origins.Journal
	// The Result holds the token's entries; the journal must not keep them
	// for the life of a long run (a repeat with the same token finds none).
	defer journal.Forget(token)
	var serverTime time.Duration
	server := func(ctx context.Context) ServerView {
		if !recorded {
			return ServerView{}
		}
		t0 := time.Now()
		defer func() { serverTime = time.Since(t0) }()
		// Every answer the server started is final before the browser ends the
		// request, except a stalled one, which ends when the client leaves.
		sctx, cancel := context.WithTimeout(ctx, settle)
		defer cancel()
		entries, err := journal.Wait(sctx, token, func(es []servers.Entry) bool {
			for _, e := range es {
				if e.Status == 0 {
					return false
				}
			}
			return true
		})
		if err != nil {
			res.Notes = append(res.Notes, "the server was still answering when the views were collected")
		}
		return ServerView{Recorded: true, Entries: entries, Marked: journal.Marked()}
	}
	sent, err := s.tab.Send(ctx, desc, token, server)
	res.Page, res.Browser, res.Server = sent.Page, sent.Browser, sent.Server
	res.Browser.Instance = s.browser.Path()
	res.Notes = append(res.Notes, sent.Notes...)
	res.Timing = Timing{Page: sent.PageTime, Browser: sent.BrowserTime, Server: serverTime}
	res.refine()
	s.predictFromResponse(&res)
	if w := res.reflectionWithoutVary(); w != "" {
		res.Notes = append(res.Notes, w)
	}
	if err != nil {
		return res, fmt.Errorf("harness: run %s %s in %s: %w", req.method(), res.URL, s.lane.kind.Name(), explain(s.browser, err))
	}
	if ctx.Err() != nil {
		return res, fmt.Errorf("harness: %w", ctx.Err())
	}
	return res, nil
}

func sameOrigin(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && ua.Scheme == ub.Scheme && strings.EqualFold(ua.Host, ub.Host)
}

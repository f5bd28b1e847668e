package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/corslab/corslab/harness/model"
	"github.com/corslab/corslab/servers"
)

// settle bounds the wait for the events that trail a request's end (extra
// info, the journal's final status): they belong to it but may come later.
const settle = 2 * time.Second

// pageMargin is the time a request leaves, after the page's own timeout, to
// collect the browser's and the server's views.
const pageMargin = 1500 * time.Millisecond

// Session is one browser context with a (hidden) tab on the page origin. Its
// cookies and preflight cache are its own. The caller must call Close when finished.
type Session struct {
	env     *Env
	browser *browser // the Chrome the tab lives in
	tab     context.Context
	cancel  context.CancelFunc
	cap     *capture
	origin  string
	// intercepted is set for a session whose page document Chrome's Fetch domain answers.
	intercepted *interceptor
	model       *model.Browser // predicts this context's requests, preflight cache included

	mu sync.Mutex // one request at a time: the tab is one page
}

// openSession opens a fresh browser context with a tab on the page origin.
func (e *Env) openSession(ctx context.Context) (*Session, error) {
	return e.openSessionOn(ctx, e.Origins.App.URL, nil)
}

// openSessionOn opens a fresh browser context whose tab runs prepare (if
// any) before it navigates to origin.
func (e *Env) openSessionOn(ctx context.Context, origin string, prepare func(tab context.Context) error) (*Session, error) {
	b := e.currentBrowser()
	c := newCapture()
	tab, cancel, err := b.newHiddenTab(ctx, "", c.listen)
	if err != nil {
		return nil, fmt.Errorf("harness: open a session on %s: %w", origin, b.explain(err))
	}
	s := &Session{env: e, browser: b, tab: tab, cancel: cancel, cap: c, origin: origin}
	s.model = model.NewBrowser(model.Chrome, s.origin)
	if err := s.open(ctx, s.origin+"/", prepare); err != nil {
		return nil, err
	}
	return s, nil
}

// open navigates the session's new tab to page, after prepare (if any), and checks the page.
func (s *Session) open(ctx context.Context, page string, prepare func(tab context.Context) error) error {
	tab, cancel := s.tab, s.cancel
	// The first Do creates the tab and binds it to tab, so it runs unbounded
	// in a goroutine and ctx bounds the wait.
	done := make(chan error, 1)
	go func() {
		if prepare != nil {
			if err := prepare(tab); err != nil {
				done <- err
				return
			}
		}
		done <- chromedp.Do(tab, chromedp.Navigate(page))
	}()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err == nil {
		err = s.checkPage(ctx)
	}
	if err != nil {
		cancel()
		return fmt.Errorf("harness: open a session on %s: %w", s.origin, s.explain(err))
	}
	return nil
}

// checkPage makes sure the runner script loaded.
func (s *Session) checkPage(ctx context.Context) error {
	rctx, cancel := s.bind(ctx)
	defer cancel()
	ok, err := chromedp.Run(rctx, chromedp.Evaluate[bool](`typeof corslab === "object" && typeof createCORSRequest === "function"`))
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("the page origin's page did not load cors.js")
	}
	return nil
}

// Origin is the page origin this session's requests come from.
func (s *Session) Origin() string { return s.origin }

func (s *Session) alive() bool { return s.tab.Err() == nil && s.browser.alive() }

// Close closes the tab and disposes of its browser context.
func (s *Session) Close() error {
	s.cancel()
	return nil
}

// bind returns a context that runs actions in the session's tab but ends
// when ctx ends (and has ctx's deadline), so every wait is the caller's.
func (s *Session) bind(ctx context.Context) (context.Context, context.CancelFunc) {
	c, cancel := context.WithCancelCause(s.tab)
	stop := context.AfterFunc(ctx, func() { cancel(context.Cause(ctx)) })
	if dl, ok := ctx.Deadline(); ok {
		var cancelDL context.CancelFunc
		c, cancelDL = context.WithDeadline(c, dl)
		return c, func() { stop(); cancelDL(); cancel(nil) }
	}
	return c, func() { stop(); cancel(nil) }
}

// pageRequest is the description cors.js's corslab.run takes.
type pageRequest struct {
	API            string      `json:"api"`
	Environment    string      `json:"environment,omitempty"`
	Method         string      `json:"method"`
	URL            string      `json:"url"`
	Headers        [][2]string `json:"headers"`
	Body           *string     `json:"body"`
	Credentials    bool        `json:"credentials"`
	Mode           string      `json:"mode,omitempty"`
	Redirect       string      `json:"redirect,omitempty"`
	AddressSpace   string      `json:"targetAddressSpace,omitempty"`
	Timeout        int64       `json:"timeout,omitempty"`
	Abort          string      `json:"abort,omitempty"`
	UploadListener bool        `json:"uploadListener,omitempty"`
	Sync           bool        `json:"sync,omitempty"`
}

// pageRequest describes req for corslab.run, sent to url.
func (req Request) pageRequest(url string) pageRequest {
	pr := pageRequest{API: req.API, Environment: req.Environment, Method: req.method(), URL: url,
		Headers: [][2]string{}, Credentials: req.Credentials, Mode: req.Mode, Redirect: req.RedirectMode, AddressSpace: req.TargetAddressSpace,
		Timeout: req.Timeout.Milliseconds(), Abort: req.Abort, UploadListener: req.UploadListener, Sync: req.Sync}
	if pr.API == "" {
		pr.API = XHR
	}
	for _, h := range req.Headers {
		pr.Headers = append(pr.Headers, [2]string{h.Name, h.Value})
	}
	if req.Body != "" {
		pr.Body = &req.Body
	}
	return pr
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
	s.mu.Lock()
	defer s.mu.Unlock()

	token := req.Token
	if token == "" {
		token = NewToken()
	}
	o := s.env.Origins
	res := Result{Request: req, Token: token, PageOrigin: s.origin}
	res.URL = req.urlFor(s.env.apiBase(), o.Other.URL, o.App.URL, token)
	res.Server.Recorded = sameOrigin(res.URL, o.API.URL) || sameOrigin(res.URL, o.Other.URL) || sameOrigin(res.URL, o.App.URL)
	res.Request.Token = token
	res.Predicted = s.predict(req, res.URL)

	pr := req.pageRequest(res.URL)
	if pr.Timeout == 0 {
		// A server that never answers must end as "timeout" in the page, with
		// time left to collect the other two views, not as a hung wait.
		dl, _ := ctx.Deadline()
		pr.Timeout = max(100, (time.Until(dl) - pageMargin).Milliseconds())
	}
	js, err := json.Marshal(pr)
	if err != nil {
		return res, fmt.Errorf("harness: encode request: %w", err)
	}

	since := len(o.Journal.Entries(token))
	mark := s.cap.mark()
	defer s.cap.forget(token)

	rctx, cancel := s.bind(ctx)
	defer cancel()
	t0 := time.Now()
	res.Page, err = chromedp.Run(rctx, chromedp.Evaluate[PageView]("corslab.run("+string(js)+")", chromedp.EvalAwaitPromise))
	if err != nil {
		return res, fmt.Errorf("harness: run %s %s in the page: %w", pr.Method, res.URL, s.explain(err))
	}

	res.Timing.Page = time.Since(t0)
	t0 = time.Now()
	// The page has its answer; now wait for Chrome's account of the same request.
	switch res.Page.Event {
	case "load", "error", "timeout":
		// Measured in Chromium 156: an opaque (no-cors) response gets no
		// loadingFinished, even once the page read it; its status is the end.
		opaque := res.Page.Event == "load" && res.Page.ResponseType == "opaque"
		err = s.cap.wait(rctx, token, mark, func(_, a *Exchange) bool { return a != nil && (a.Finished || opaque && a.Status > 0) })
		if err != nil {
			return res, fmt.Errorf("harness: %w", s.explain(err))
		}
	case "abort":
		// An abort right after send may stop the request before Chrome reports it at all.
		sctx, scancel := context.WithTimeout(rctx, settle)
		_ = s.cap.wait(sctx, token, mark, func(_, a *Exchange) bool { return a != nil && a.Finished })
		scancel()
	}
	res.Timing.Browser = time.Since(t0)
	t0 = time.Now()
	if res.Server.Recorded {
		// Every answer the server started is final before the browser ends the
		// request, except a stalled one, which ends when the client leaves.
		sctx, scancel := context.WithTimeout(rctx, settle)
		entries, werr := o.Journal.Wait(sctx, token, func(es []servers.Entry) bool {
			for _, e := range es[min(since, len(es)):] {
				if e.Status == 0 {
					return false
				}
			}
			return true
		})
		scancel()
		res.Server.Entries = entries[min(since, len(entries)):]
		if werr != nil {
			res.Notes = append(res.Notes, "the server was still answering when the views were collected")
		}
	}
	res.Timing.Server = time.Since(t0)
	t0 = time.Now()
	// Extra-info events (raw headers, cookies, blocked status) trail the end.
	sctx, scancel := context.WithTimeout(rctx, settle)
	werr := s.cap.wait(sctx, token, mark, func(p, a *Exchange) bool {
		return browserComplete(res.Server, p, a)
	})
	scancel()
	res.Timing.Browser += time.Since(t0)
	res.Browser.Preflight, res.Browser.Actual = s.cap.view(token, mark)
	if werr != nil && ctx.Err() == nil {
		res.Notes = append(res.Notes, "Chrome's events for this request were incomplete after "+settle.String())
	}
	if a := res.Browser.Actual; a != nil {
		res.Browser.CorsError, res.Browser.FailedParameter, res.Browser.ErrorText = a.CorsError, a.FailedParameter, a.ErrorText
	}
	if ctx.Err() != nil {
		return res, fmt.Errorf("harness: %w", ctx.Err())
	}
	return res, nil
}

// browserComplete reports whether Chrome's view holds every exchange the server saw.
func browserComplete(sv ServerView, pre, actual *Exchange) bool {
	if !sv.Recorded {
		return actual == nil || actual.Finished
	}
	if len(sv.Preflights()) > 0 && (pre == nil || pre.Status == 0 && !pre.Finished) {
		return false
	}
	if acts := sv.Actuals(); len(acts) > 0 {
		if actual == nil || !actual.OnWire {
			return false
		}
		// The server answered, so Chrome saw a status: for a response CORS
		// blocked, it comes only in responseReceivedExtraInfo, which can
		// trail loadingFailed. Wait for it unless the page gave up first.
		answered := false
		for _, e := range acts {
			answered = answered || e.Status > 0
		}
		if answered && actual.Status == 0 && !actual.Canceled {
			return false
		}
	}
	return true
}

func sameOrigin(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && ua.Scheme == ub.Scheme && strings.EqualFold(ua.Host, ub.Host)
}

// explain turns chromedp's errors into what happened to the browser.
func (s *Session) explain(err error) error { return s.browser.explain(err) }

// explain wraps err with ErrBrowserDied when the browser exited under it.
func (b *browser) explain(err error) error {
	if !b.alive() {
		return fmt.Errorf("%w (%s exited: %v); the next session gets a new browser: %w",
			ErrBrowserDied, b.path, context.Cause(b.ctx), err)
	}
	return err
}

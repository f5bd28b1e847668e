package webkit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/corslab/corslab/harness"
)

// tab is one page of a MiniBrowser, with an observer of its network and
// console events. Its methods are bounded by their ctx.
type tab struct {
	c       *bcontext
	s       *session
	obs     *observer
	socket  string
	isFirst bool // the MiniBrowser's initial tab: released, never closed

	mu     sync.Mutex
	runner string // remote object id of the page's corslab object
}

// Navigate loads url in the tab and waits for its load event.
func (t *tab) Navigate(ctx context.Context, url string) error {
	err := t.guarded(ctx, func(ctx context.Context) error { return t.navigate(ctx, url) })
	if err == nil {
		t.c.noteWebProcesses() // a navigation to another site starts a web process
	}
	return err
}

func (t *tab) navigate(ctx context.Context, url string) error {
	t.mu.Lock()
	t.runner = ""
	t.mu.Unlock()
	loaded := t.s.waitFor("Page.loadEventFired")
	if err := t.s.call(ctx, "Page.navigate", map[string]any{"url": url}, nil); err != nil {
		return fmt.Errorf("webkit: navigate to %s: %w", url, t.c.explain(err))
	}
	// A document that fails to load (a TLS error, a refused connection)
	// gets loadingFailed and no load event.
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-loaded:
			return nil
		case <-t.s.done:
			return fmt.Errorf("webkit: navigate to %s: %w", url, t.c.explain(t.s.closedErr()))
		case <-ctx.Done():
			return fmt.Errorf("webkit: navigate to %s: no load event: %w", url, t.c.explain(context.Cause(ctx)))
		case <-tick.C:
			if e := t.obs.failedDocument(url); e != "" {
				return fmt.Errorf("webkit: navigate to %s: the document failed: %s", url, e)
			}
		}
	}
}

// remoteObject is the inspector's Runtime.RemoteObject.
type remoteObject struct {
	Type        string          `json:"type"`
	Subtype     string          `json:"subtype"`
	ClassName   string          `json:"className"`
	Description string          `json:"description"`
	Value       json.RawMessage `json:"value"`
	ObjectID    string          `json:"objectId"`
}

type evalResult struct {
	Result    remoteObject `json:"result"`
	WasThrown bool         `json:"wasThrown"`
}

func (r evalResult) err() error {
	if r.WasThrown {
		return fmt.Errorf("the page threw: %s", r.Result.Description)
	}
	return nil
}

// run performs one request description with cors.js's corslab.run in the
// page and returns the page view. It is one round trip:
// Runtime.callFunctionOn on the page's corslab object, awaiting the promise
// (this WebKit's Runtime.evaluate cannot await one).
func (t *tab) run(ctx context.Context, desc []byte) (pv harness.PageView, err error) {
	err = t.guarded(ctx, func(ctx context.Context) error {
		pv, err = t.runOnce(ctx, desc)
		return err
	})
	return pv, err
}

func (t *tab) runOnce(ctx context.Context, desc []byte) (harness.PageView, error) {
	var pv harness.PageView
	for attempt := 0; ; attempt++ {
		id, err := t.runnerID(ctx)
		if err != nil {
			return pv, err
		}
		var r evalResult
		err = t.s.call(ctx, "Runtime.callFunctionOn", map[string]any{
			"objectId": id, "functionDeclaration": "function (d) { return this.run(d); }",
			"arguments": []map[string]any{{"value": json.RawMessage(desc)}}, "returnByValue": true, "awaitPromise": true,
		}, &r)
		if err != nil && isMissingObject(err) && attempt == 0 {
			t.mu.Lock()
			t.runner = "" // the page navigated or its process swapped: look the object up again
			t.mu.Unlock()
			continue
		}
		if err != nil {
			return pv, fmt.Errorf("webkit: run the request in the page: %w", t.c.explain(err))
		}
		if err := r.err(); err != nil {
			return pv, fmt.Errorf("webkit: corslab.run: %w", err)
		}
		if err := json.Unmarshal(r.Result.Value, &pv); err != nil {
			return pv, fmt.Errorf("webkit: decode the page view: %w", err)
		}
		return pv, nil
	}
}

// runnerID returns the remote object id of the page's corslab object; the
// error says when the page has no cors.js.
func (t *tab) runnerID(ctx context.Context) (string, error) {
	t.mu.Lock()
	id := t.runner
	t.mu.Unlock()
	if id != "" {
		return id, nil
	}
	var r evalResult
	if err := t.s.call(ctx, "Runtime.evaluate", map[string]any{"expression": `typeof corslab === "object" && typeof createCORSRequest === "function" ? corslab : null`, "objectGroup": "corslab-runner"}, &r); err != nil {
		return "", fmt.Errorf("webkit: find cors.js in the page: %w", t.c.explain(err))
	}
	if err := r.err(); err != nil {
		return "", fmt.Errorf("webkit: find cors.js in the page: %w", err)
	}
	if r.Result.ObjectID == "" {
		return "", errors.New("webkit: the page did not load cors.js (no corslab object)")
	}
	t.mu.Lock()
	t.runner = r.Result.ObjectID
	t.mu.Unlock()
	return r.Result.ObjectID, nil
}

// pageCookie is the inspector's Page.Cookie.
type pageCookie struct {
	Name     string  `json:"name"`
	Value    string  `json:"value"`
	Domain   string  `json:"domain"`
	Path     string  `json:"path"`
	Expires  float64 `json:"expires"`
	Session  bool    `json:"session"`
	HTTPOnly bool    `json:"httpOnly"`
	Secure   bool    `json:"secure"`
	SameSite string  `json:"sameSite"`
}

// setCookie stores the cookie of a Set-Cookie line as if rawURL had sent
// it, through the inspector's Page.setCookie: the MiniBrowser's cookie
// store, not the page's document.cookie, so HttpOnly works. A line without
// Domain makes a host-only cookie for rawURL's host; without Path, "/".
func (t *tab) setCookie(ctx context.Context, rawURL, line string) error {
	u, err := url.Parse(rawURL)
	if err != nil || u.Hostname() == "" {
		return fmt.Errorf("webkit: set cookie: bad URL %q", rawURL)
	}
	hc, err := http.ParseSetCookie(line)
	if err != nil {
		return fmt.Errorf("webkit: cookie %q: %w", line, err)
	}
	c := pageCookie{Name: hc.Name, Value: hc.Value, Domain: u.Hostname(), Path: "/", Session: true,
		HTTPOnly: hc.HttpOnly, Secure: hc.Secure, SameSite: "None"}
	if hc.Domain != "" {
		c.Domain = "." + strings.TrimPrefix(hc.Domain, ".")
	}
	if hc.Path != "" {
		c.Path = hc.Path
	}
	switch {
	case hc.MaxAge > 0:
		c.Session, c.Expires = false, float64(time.Now().Add(time.Duration(hc.MaxAge)*time.Second).UnixMilli())
	case !hc.Expires.IsZero():
		c.Session, c.Expires = false, float64(hc.Expires.UnixMilli())
	}
	switch hc.SameSite {
	case http.SameSiteLaxMode:
		c.SameSite = "Lax"
	case http.SameSiteStrictMode:
		c.SameSite = "Strict"
	}
	if err := t.s.call(ctx, "Page.setCookie", map[string]any{"cookie": c}, nil); err != nil {
		return fmt.Errorf("webkit: set cookie %s for %s: %w", hc.Name, rawURL, t.c.explain(err))
	}
	return nil
}

// closeTab closes a tab window.open made (window.close(), allowed for a
// tab a script opened) and its inspector connection.
func (t *tab) closeTab() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = t.s.call(ctx, "Runtime.evaluate", map[string]any{"expression": "window.close()"}, nil)
	t.s.close()
	t.c.mu.Lock()
	delete(t.c.tabs, t)
	t.c.mu.Unlock()
}

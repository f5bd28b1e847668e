package webkit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// allWebsiteData is WEBKIT_WEBSITE_DATA_ALL of WebKitGTK 2.50 (bits 0-13:
// memory and disk cache, storage, cookies, HSTS, ITP, service workers, DOM cache).
const allWebsiteData = 1<<14 - 1

var aboutDataPageID = regexp.MustCompile(`clearData\('(\d+):`)

// reset clears the MiniBrowser's website data (cookies, memory and disk
// caches, the preflight cache with them, storage, HSTS) for the next
// harness context. The caller held the only harness context of c and
// closed its tabs.
//
// It uses MiniBrowser's own about:data page: its "Clear all" button posts
// "<page id>:<types>" to the aboutData script message handler (only that
// page has it), which calls webkit_website_data_manager_clear and then
// reloads the page. The initial tab is reloaded first, which ends whatever
// the last page still had in flight, without a process swap; the clear
// then waits for the HTTP cache's writes (cacheWriteDelay), meanwhile a tab
// of its own loads about:data, and that tab is closed after the clear.
func (c *bcontext) reset(ctx context.Context) error {
	c.tabMu.Lock()
	c.mu.Lock()
	var tabs []*tab
	for t := range c.tabs {
		if t != c.dataTab {
			tabs = append(tabs, t)
		}
	}
	intercepted := c.firstIC != nil
	c.mu.Unlock()
	c.tabMu.Unlock()
	for _, t := range tabs {
		t.closeTab()
	}
	if err := c.cleanFirst(ctx); err != nil {
		return err
	}
	// An impersonated page would now load from the network (refused): that
	// tab goes to about:blank instead.
	first := c.first.s
	if intercepted {
		if err := load(ctx, first, "about:blank"); err != nil {
			return fmt.Errorf("webkit: reset: %w", err)
		}
	} else {
		loaded := first.waitFor("Page.loadEventFired")
		if err := first.call(ctx, "Page.reload", map[string]any{"ignoreCache": true}, nil); err != nil {
			return fmt.Errorf("webkit: reset: reload the tab: %w", err)
		}
		if err := waitEvent(ctx, first, loaded); err != nil {
			return fmt.Errorf("webkit: reset: reload the tab: %w", err)
		}
	}
	// WebKit's HTTP cache writes a response it stores to disk about a second
	// later, answers from writes still pending, and its clear leaves them
	// alone. Without this wait a response the last session stored just
	// before the clear survived it in 2 of 12 runs of
	// TestContextsIsolateCookiesAndThePreflightCache; with it, in none of 20.
	// The about:data tab opens meanwhile.
	wait := time.NewTimer(cacheWriteDelay)
	defer wait.Stop()
	if err := c.openDataTab(ctx); err != nil {
		return err
	}
	data := c.dataTab
	defer func() {
		data.closeTab()
		c.mu.Lock()
		c.dataTab = nil
		c.mu.Unlock()
	}()
	select {
	case <-wait.C:
	case <-ctx.Done():
		return fmt.Errorf("webkit: reset: %w", ctx.Err())
	case <-first.done:
		return fmt.Errorf("webkit: reset: %w", first.closedErr())
	}
	s := data.s
	reloaded := s.waitFor("Page.loadEventFired")
	var r evalResult
	post := "window.webkit.messageHandlers.aboutData.postMessage(" + strconv.Quote(c.aboutDataID+":"+strconv.Itoa(allWebsiteData)) + ")"
	if err := s.call(ctx, "Runtime.evaluate", map[string]any{"expression": post}, &r); err != nil {
		return fmt.Errorf("webkit: reset: clear the data: %w", err)
	}
	if err := r.err(); err != nil {
		return fmt.Errorf("webkit: reset: clear the data: %w", err)
	}
	if err := waitEvent(ctx, s, reloaded); err != nil {
		return fmt.Errorf("webkit: reset: wait for the data manager: %w", err)
	}
	c.first.obs.clear()
	c.first.mu.Lock()
	c.first.runner = ""
	c.first.mu.Unlock()
	c.noteWebProcesses()
	return nil
}

// cacheWriteDelay is how long a reset waits, after the last page of the
// MiniBrowser is gone, for WebKit's HTTP cache to write what it stored.
const cacheWriteDelay = 1500 * time.Millisecond

// openDataTab opens the tab that shows MiniBrowser's about:data page and
// learns its page id, which the page's message must name.
func (c *bcontext) openDataTab(ctx context.Context) error {
	t, err := c.openBlank(ctx)
	if err != nil {
		return fmt.Errorf("webkit: reset: %w", err)
	}
	c.mu.Lock()
	c.dataTab = t
	c.mu.Unlock()
	// about:data names the page id only beside data it lists: make sure it
	// lists a cookie.
	marker := pageCookie{Name: "corslab-reset", Value: "1", Domain: "reset.corslab.invalid", Path: "/", Session: true, SameSite: "None"}
	if err := t.s.call(ctx, "Page.setCookie", map[string]any{"cookie": marker}, nil); err != nil {
		return fmt.Errorf("webkit: reset: %w", err)
	}
	if err := load(ctx, t.s, "minibrowser-about:data"); err != nil {
		return fmt.Errorf("webkit: reset: %w", err)
	}
	var r evalResult
	if err := t.s.call(ctx, "Runtime.evaluate", map[string]any{"expression": "document.body ? document.body.innerHTML : ''", "returnByValue": true}, &r); err != nil {
		return fmt.Errorf("webkit: reset: read about:data: %w", err)
	}
	var html string
	_ = json.Unmarshal(r.Result.Value, &html)
	m := aboutDataPageID.FindStringSubmatch(html)
	if m == nil {
		return errors.New("webkit: reset: about:data shows no page id")
	}
	c.aboutDataID = m[1]
	return nil
}

// load navigates s's page to url and waits for its load event.
func load(ctx context.Context, s *session, url string) error {
	loaded := s.waitFor("Page.loadEventFired")
	if err := s.call(ctx, "Page.navigate", map[string]any{"url": url}, nil); err != nil {
		return fmt.Errorf("open %s: %w", url, err)
	}
	if err := waitEvent(ctx, s, loaded); err != nil {
		return fmt.Errorf("open %s: %w", url, err)
	}
	return nil
}

func waitEvent(ctx context.Context, s *session, ch <-chan json.RawMessage) error {
	t := time.NewTimer(10 * time.Second)
	defer t.Stop()
	select {
	case <-ch:
		return nil
	case <-s.done:
		return s.closedErr()
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return errors.New("no load event within 10 s")
	}
}

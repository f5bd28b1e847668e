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
// caches, the preflight cache with them, storage, HSTS) with MiniBrowser's
// own about:data page: it loads minibrowser-about:data in the initial tab
// and posts the "clear all" message that page's buttons post
// (webkit_website_data_manager_clear), then leaves the tab on about:blank.
// The caller holds the only harness context of c, with no tab open.
func (c *bcontext) reset(ctx context.Context) error {
	c.tabMu.Lock()
	defer c.tabMu.Unlock()
	c.mu.Lock()
	var tabs []*tab
	for t := range c.tabs {
		tabs = append(tabs, t)
	}
	c.mu.Unlock()
	for _, t := range tabs {
		t.closeTab()
	}
	if err := c.cleanFirst(ctx); err != nil {
		return err
	}
	s := c.first.s
	if c.aboutDataID == "" {
		// about:data names the page id (which its message needs) only
		// beside data it lists: make sure it lists a cookie.
		marker := pageCookie{Name: "corslab-reset", Value: "1", Domain: "reset.corslab.invalid", Path: "/", Session: true, SameSite: "None"}
		if err := s.call(ctx, "Page.setCookie", map[string]any{"cookie": marker}, nil); err != nil {
			return fmt.Errorf("webkit: reset: %w", err)
		}
	}
	loaded := s.waitFor("Page.loadEventFired")
	if err := s.call(ctx, "Page.navigate", map[string]any{"url": "minibrowser-about:data"}, nil); err != nil {
		return fmt.Errorf("webkit: reset: open about:data: %w", err)
	}
	if err := waitEvent(ctx, s, loaded); err != nil {
		return fmt.Errorf("webkit: reset: open about:data: %w", err)
	}
	if c.aboutDataID == "" {
		var r evalResult
		if err := s.call(ctx, "Runtime.evaluate", map[string]any{"expression": "document.body ? document.body.innerHTML : ''", "returnByValue": true}, &r); err != nil {
			return fmt.Errorf("webkit: reset: read about:data: %w", err)
		}
		var html string
		_ = json.Unmarshal(r.Result.Value, &html)
		m := aboutDataPageID.FindStringSubmatch(html)
		if m == nil {
			return errors.New("webkit: reset: about:data shows no page id")
		}
		c.aboutDataID = m[1]
	}
	// MiniBrowser reloads about:data when the data manager has finished.
	reloaded := s.waitFor("Page.loadEventFired")
	msg := c.aboutDataID + ":" + strconv.Itoa(allWebsiteData)
	if err := s.call(ctx, "Runtime.evaluate", map[string]any{"expression": "window.webkit.messageHandlers.aboutData.postMessage(" + strconv.Quote(msg) + ")"}, nil); err != nil {
		return fmt.Errorf("webkit: reset: clear the data: %w", err)
	}
	if err := waitEvent(ctx, s, reloaded); err != nil {
		return fmt.Errorf("webkit: reset: wait for the data manager: %w", err)
	}
	blank := s.waitFor("Page.loadEventFired")
	if err := s.call(ctx, "Page.navigate", map[string]any{"url": "about:blank"}, nil); err != nil {
		return fmt.Errorf("webkit: reset: open about:blank: %w", err)
	}
	if err := waitEvent(ctx, s, blank); err != nil {
		return fmt.Errorf("webkit: reset: open about:blank: %w", err)
	}
	c.first.obs.clear()
	c.first.mu.Lock()
	c.first.runner = ""
	c.first.mu.Unlock()
	c.noteWebProcesses()
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

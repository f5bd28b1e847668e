package harness

import (
	"context"
	"fmt"

	"github.com/corslab/corslab/harness/model"
	"github.com/corslab/corslab/pages"
)

// NewTab opens another tab on the page origin in the session's browser
// context: it shares the session's cookies and preflight cache. The caller
// must call Close on it when finished (closing only that tab).
func (s *Session) NewTab(ctx context.Context) (*Session, error) {
	return s.newTab(ctx, s.origin, s.origin+"/")
}

// NewSandboxedTab opens a tab, in the session's browser context, on the page
// origin's sandboxed page (CSP sandbox): its origin is opaque, so its requests
// carry Origin: null. The caller must call Close on it when finished.
func (s *Session) NewSandboxedTab(ctx context.Context) (*Session, error) {
	return s.newTab(ctx, "null", s.env.Origins.App.URL+pages.SandboxedPath)
}

func (s *Session) newTab(ctx context.Context, origin, page string) (*Session, error) {
	c := newCapture()
	// A tab of the same origin shares the context's cookies and preflight
	// cache, so its model too.
	tab, cancel, err := s.browser.newHiddenTab(ctx, browserContextOf(s.tab), c.listen)
	if err != nil {
		return nil, fmt.Errorf("harness: open a tab on %s: %w", page, s.explain(err))
	}
	t := &Session{env: s.env, browser: s.browser, tab: tab, cancel: cancel, cap: c, origin: origin, model: s.model}
	if origin != s.origin {
		t.model = model.NewBrowser(model.Chrome, origin)
	}
	if err := t.open(ctx, page, nil); err != nil {
		return nil, err
	}
	return t, nil
}

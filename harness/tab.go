package harness

import (
	"context"

	"github.com/chromedp/chromedp"
)

// NewTab opens another tab on the page origin in the session's browser
// context: it shares the session's cookies and preflight cache. The caller
// must call Close on it when finished (closing only that tab).
func (s *Session) NewTab(ctx context.Context) (*Session, error) {
	c := newCapture()
	tab, cancel := chromedp.NewContext(s.tab, chromedp.WithListener(c.listen))
	// The tab shares the context's cookies and preflight cache, so its model too.
	t := &Session{env: s.env, browser: s.browser, tab: tab, cancel: cancel, cap: c, origin: s.origin, model: s.model}
	if err := t.open(ctx, s.origin+"/", nil); err != nil {
		return nil, err
	}
	return t, nil
}

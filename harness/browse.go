package harness

import (
	"context"
	"fmt"

	"github.com/chromedp/chromedp"
)

// Browse opens a tab in a fresh browser context of the Env's Chrome and
// navigates it to url, for driving a page (such as the teaching lab) with
// chromedp actions. The tab closes when ctx ends or when close is called;
// the caller must call close when finished.
func (e *Env) Browse(ctx context.Context, url string) (tab context.Context, close context.CancelFunc, err error) {
	tab, cancel := chromedp.NewContext(e.browser.ctx, chromedp.WithNewBrowserContext())
	stop := context.AfterFunc(ctx, cancel)
	close = func() { stop(); cancel() }
	// The first Do creates the tab and binds it to tab: it runs unbounded in
	// a goroutine and ctx bounds the wait (as in NewSession).
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(tab, chromedp.Navigate(url)) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		close()
		return nil, nil, fmt.Errorf("harness: browse %s: %w", url, e.explain(err))
	}
	return tab, close, nil
}

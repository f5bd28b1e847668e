package chromium

import (
	"context"
	"errors"
	"fmt"

	"github.com/chromedp/chromedp"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/verdict"
)

// Browse opens a tab (with a window, for screenshots and clicks) in a fresh
// browser context of the Env's Chromium and navigates it to url, for driving
// a page (such as the teaching lab) with chromedp actions. The tab closes
// when ctx ends or when close is called; the caller must call close when finished.
func Browse(ctx context.Context, env *harness.Env, url string) (tab context.Context, close context.CancelFunc, err error) {
	b, ok := env.In(verdict.Chromium).Browser().(*browser)
	if !ok {
		return nil, nil, errors.New("chromium: Browse needs the Env's Chromium")
	}
	tab, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
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
		return nil, nil, fmt.Errorf("chromium: browse %s: %w", url, err)
	}
	return tab, close, nil
}

// Screenshot opens url in a window of the Env's Chromium, waits until the
// element ready selects is visible, and returns a PNG of the element shot
// selects, or of the whole page at its own height when shot is "".
func Screenshot(ctx context.Context, env *harness.Env, url, ready, shot string) ([]byte, error) {
	tab, closeTab, err := Browse(ctx, env, url)
	if err != nil {
		return nil, err
	}
	defer closeTab()
	if err := chromedp.Do(tab, chromedp.EmulateViewport(1400, 3200), chromedp.WaitVisible(ready)); err != nil {
		return nil, fmt.Errorf("chromium: wait for %s: %w", ready, err)
	}
	if shot != "" {
		return chromedp.Run(tab, chromedp.Screenshot(shot))
	}
	// The whole page at its own height, so what sits at its end is in the picture.
	h, err := chromedp.Run(tab, chromedp.Evaluate[int64](`document.documentElement.scrollHeight`))
	if err != nil {
		return nil, err
	}
	if err := chromedp.Do(tab, chromedp.EmulateViewport(1400, h)); err != nil {
		return nil, err
	}
	return chromedp.Run(tab, chromedp.CaptureScreenshot())
}

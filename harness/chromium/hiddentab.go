package chromium

import (
	"context"
	"fmt"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// A session's tab is a hidden target (Target.createTarget with hidden: true):
// a real page with its own renderer, in its own browser context, that Chrome
// makes without a window. A window costs ~250 ms of Chrome's CPU per context
// on a 2-core machine, two thirds of the whole; requests, CORS checks and
// CDP events are the same (docs/decisions/2026-11-25-hidden-session-tabs.md).
// Pages a person or a click must see (Env.Browse) still get a window.

// newHiddenTab creates a hidden about:blank tab in browser context bc and
// returns a chromedp context for it (listen sees its events from the start)
// and the func that closes the tab.
func (b *browser) newHiddenTab(ctx context.Context, bc cdp.BrowserContextID, listen func(any)) (context.Context, context.CancelFunc, error) {
	cctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	yes := true
	res, err := chromedp.CallBrowser(cctx, target.CreateTarget, target.CreateTargetParams{
		URL: "about:blank", BrowserContextID: bc, Background: &yes, Hidden: &yes,
	})
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, nil, fmt.Errorf("create a tab: %w", err)
	}
	tab, closeTab := chromedp.NewContext(b.ctx, chromedp.WithTargetID(res.TargetID), chromedp.WithListener(listen))
	return tab, closeTab, nil
}

// disposeContext disposes of browser context bc and its tabs; a dead browser has none left.
func (b *browser) disposeContext(bc cdp.BrowserContextID) {
	if !b.alive() {
		return
	}
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	_, _ = chromedp.CallBrowser(ctx, target.DisposeBrowserContext, target.DisposeBrowserContextParams{BrowserContextID: bc})
}

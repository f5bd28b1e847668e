package harness

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/chromedp/chromedp"
)

// Browse opens a tab in a fresh browser context of the Env's Chrome and
// navigates it to url, for driving a page (such as the teaching lab) with
// chromedp actions. The tab closes when ctx ends or when close is called;
// the caller must call close when finished.
func (e *Env) Browse(ctx context.Context, url string) (tab context.Context, close context.CancelFunc, err error) {
	b, err := e.liveBrowser(ctx)
	if err != nil {
		return nil, nil, err
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
		return nil, nil, fmt.Errorf("harness: browse %s: %w", url, b.explain(err))
	}
	return tab, close, nil
}

// Plan is a request made ready for a page that is not corslab's: the token,
// the URL and the description cors.js's corslab.run takes. A page on the
// page origin (the teaching lab in a person's own browser) sends it itself;
// the journal then has the server's view under Token.
type Plan struct {
	Token       string          `json:"token"`
	URL         string          `json:"url"`
	Description json.RawMessage `json:"description"`
}

// Plan validates req and makes its Plan on the Env's origins; a request with
// no Token gets a new one.
func (e *Env) Plan(req Request) (Plan, error) {
	if err := req.Validate(e.opts.AllowRemoteTargets); err != nil {
		return Plan{}, fmt.Errorf("harness: %w", err)
	}
	token := req.Token
	if token == "" {
		token = NewToken()
	}
	url := req.urlFor(e.Origins.API.URL, e.Origins.Other.URL, e.Origins.App.URL, token)
	js, err := json.Marshal(req.pageRequest(url))
	if err != nil {
		return Plan{}, fmt.Errorf("harness: encode request: %w", err)
	}
	return Plan{Token: token, URL: url, Description: js}, nil
}

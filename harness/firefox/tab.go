package firefox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"
)

// tab is one background tab (a top-level BiDi browsing context) and the
// observer of its requests.
type tab struct {
	b   *browser
	id  string
	obs *observer
	ic  *interceptor // set for a page that runs as another origin

	releaseOnce sync.Once
}

// navigate loads url in the tab and waits for its load event.
func (t *tab) navigate(ctx context.Context, url string) error {
	return t.b.call(ctx, "browsingContext.navigate", map[string]any{"context": t.id, "url": url, "wait": "complete"}, nil)
}

// Navigate loads url in the tab as a top-level visit and waits for its load
// event. Send works afterwards only in a page that loads cors.js: a visit to
// another page leaves the tab there until it navigates back to a corslab page.
func (t *tab) Navigate(ctx context.Context, url string) error {
	if err := t.navigate(ctx, url); err != nil {
		return fmt.Errorf("navigate to %s: %w", url, err)
	}
	return nil
}

// checkPage makes sure the runner script loaded.
func (t *tab) checkPage(ctx context.Context) error {
	var ok bool
	if err := t.eval(ctx, `typeof corslab === "object" && typeof createCORSRequest === "function"`, &ok); err != nil {
		return err
	}
	if !ok {
		return errors.New("the page did not load cors.js")
	}
	return nil
}

// eval evaluates the JavaScript expression expr in the tab's page, awaits it
// when it is a promise, and decodes its JSON value into out (unless nil).
func (t *tab) eval(ctx context.Context, expr string, out any) error {
	// JSON.stringify in the page: BiDi's own serialization of an object is a
	// list of [key, value] pairs, not JSON.
	wrapped := "(async () => JSON.stringify(await (" + expr + "\n)))()"
	var res evalResult
	err := t.b.call(ctx, "script.evaluate", map[string]any{
		"expression":      wrapped,
		"target":          map[string]any{"context": t.id},
		"awaitPromise":    true,
		"resultOwnership": "none",
	}, &res)
	if err != nil {
		return err
	}
	if err := res.err(); err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	s := res.String()
	if res.Result.Type == "undefined" {
		s = "null"
	}
	if err := json.Unmarshal([]byte(s), out); err != nil {
		return fmt.Errorf("decode the page's answer %.80q: %w", s, err)
	}
	return nil
}

// release stops the tab's interceptor and forgets its observer; the tab
// itself goes with its user context.
func (t *tab) release() {
	t.releaseOnce.Do(func() {
		if t.ic != nil {
			t.ic.stop()
			t.b.events.removeIntercept(t.ic.id)
		}
		t.b.events.removeObserver(t.obs)
	})
}

// Close closes the tab; a dead browser has none left.
func (t *tab) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var errs []error
	if t.ic != nil {
		if err := t.b.call(ctx, "network.removeIntercept", map[string]any{"intercept": t.ic.id}, nil); err != nil && !t.b.gone(err) {
			errs = append(errs, err)
		}
	}
	t.release()
	if err := t.b.call(ctx, "browsingContext.close", map[string]any{"context": t.id}, nil); err != nil && !t.b.gone(err) {
		var ce *commandError
		if !errors.As(err, &ce) || ce.code != "no such frame" { // already closed with its user context
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("firefox: close tab %s: %w", t.id, errors.Join(errs...))
	}
	return nil
}

// Intercepted returns the URLs Firefox paused for the page's own origin, in
// order (and any answer that failed): the page document and what the engine
// refused; nil for a page of corslab's page origin.
func (t *tab) Intercepted() []string {
	if t.ic == nil {
		return nil
	}
	return t.ic.urls()
}

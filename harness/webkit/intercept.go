package webkit

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sync"
)

// interceptor answers the page document of one origin, so that a page runs
// as that origin (harness.Page.As) and the API sees exactly its Origin.
//
// The inspector's request interception (Network.addInterception at the
// request stage) answers origin+"/" with the page's HTML
// (Network.interceptRequestWithResponse) and fails every other request to
// origin (interceptRequestWithError), so nothing is sent for it. Requests
// to the API go over the real network.
type interceptor struct {
	origin string
	html   string // base64

	mu   sync.Mutex
	seen []string
}

func newInterceptor(origin, html string) *interceptor {
	return &interceptor{origin: origin, html: base64.StdEncoding.EncodeToString([]byte(html))}
}

// pattern is the regular expression of the origin's URLs.
func (ic *interceptor) pattern() string { return "^" + regexp.QuoteMeta(ic.origin) + "/" }

// start enables interception of origin's URLs on the tab's every target,
// before the tab navigates there.
func (ic *interceptor) start(ctx context.Context, t *tab) error {
	t.s.mu.Lock()
	t.s.onIntercept = ic.answer
	t.s.mu.Unlock()
	if err := t.s.addSetup(ctx, "Network.addInterception", map[string]any{
		"url": ic.pattern(), "stage": "request", "isRegex": true,
	}); err != nil {
		return fmt.Errorf("add the interception of %s: %w", ic.origin, err)
	}
	if err := t.s.addSetup(ctx, "Network.setInterceptionEnabled", map[string]any{"enabled": true}); err != nil {
		var pe *protoError
		if errors.As(err, &pe) {
			return fmt.Errorf("this WebKit cannot intercept requests: %w", err)
		}
		return err
	}
	return nil
}

// stop undoes start on the tab, so that the tab can show another page.
func (ic *interceptor) stop(ctx context.Context, t *tab) error {
	t.s.mu.Lock()
	t.s.onIntercept = nil
	t.s.setup = nil
	t.s.mu.Unlock()
	// Both at once: each costs a round trip.
	var off, remove error
	var wg sync.WaitGroup
	wg.Go(func() { off = t.s.call(ctx, "Network.setInterceptionEnabled", map[string]any{"enabled": false}, nil) })
	wg.Go(func() {
		remove = t.s.call(ctx, "Network.removeInterception", map[string]any{"url": ic.pattern(), "stage": "request", "isRegex": true}, nil)
	})
	wg.Wait()
	return errors.Join(off, remove)
}

// urls returns the URLs the interception answered or failed, in order.
func (ic *interceptor) urls() []string {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	return append([]string(nil), ic.seen...)
}

// answer runs in the read loop for each Network.requestIntercepted: it
// sends the answer without waiting for the reply.
func (ic *interceptor) answer(ctx context.Context, s *session, target string, params json.RawMessage) {
	var p struct {
		RequestID string `json:"requestId"`
		Request   struct {
			URL string `json:"url"`
		} `json:"request"`
	}
	if json.Unmarshal(params, &p) != nil {
		return
	}
	ic.mu.Lock()
	ic.seen = append(ic.seen, p.Request.URL)
	ic.mu.Unlock()
	if p.Request.URL != ic.origin+"/" {
		// Not the page document: refuse it rather than send it off this machine.
		s.sendTo(ctx, target, "Network.interceptRequestWithError", map[string]any{"requestId": p.RequestID, "errorType": "AccessControl"})
		return
	}
	s.sendTo(ctx, target, "Network.interceptRequestWithResponse", map[string]any{
		"requestId": p.RequestID, "content": ic.html, "base64Encoded": true,
		"mimeType": "text/html", "status": 200, "statusText": "OK",
		"headers": map[string]string{"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"},
	})
}

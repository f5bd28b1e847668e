package firefox

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"
)

// interceptor answers one origin's page document through BiDi network
// interception and fails every other request to that origin, so nothing is
// sent off this machine.
type interceptor struct {
	id     string
	origin string // scheme://host[:port]
	html   string
	cancel context.CancelFunc // stops the worker
	ended  chan struct{}      // closed when the worker has ended

	mu     sync.Mutex
	queue  []networkEvent
	wake   chan struct{} // a token when queue has work
	paused []string      // every URL Firefox paused, in order
}

// impersonate makes the tab's requests to origin pause before they are sent
// (network.addIntercept, beforeRequestSent phase, this tab only): the page
// document origin+"/" is answered with html (network.provideResponse), any
// other request to origin is failed. Requests to other origins (the loopback
// API) go over the real network.
func (t *tab) impersonate(ctx context.Context, origin *url.URL, html string) error {
	pattern := map[string]any{"type": "pattern", "protocol": origin.Scheme, "hostname": origin.Hostname()}
	if p := origin.Port(); p != "" {
		pattern["port"] = p
	}
	var r struct {
		Intercept string `json:"intercept"`
	}
	err := t.b.call(ctx, "network.addIntercept", map[string]any{
		"phases": []string{"beforeRequestSent"}, "urlPatterns": []any{pattern}, "contexts": []string{t.id},
	}, &r)
	if err != nil {
		return fmt.Errorf("intercept %s: %w", origin, err)
	}
	wctx, cancel := context.WithCancel(context.Background())
	ic := &interceptor{id: r.Intercept, origin: origin.Scheme + "://" + origin.Host, html: html, cancel: cancel,
		ended: make(chan struct{}), wake: make(chan struct{}, 1)}
	t.ic = ic
	// The router calls enqueue from the connection's reader, which must not
	// wait on a command; the worker answers from its own goroutine.
	t.b.events.addIntercept(ic.id, ic.enqueue)
	go ic.work(wctx, t.b)
	return nil
}

// resolveLocally adds host to network.dns.localDomains at run time, so that
// an impersonated name resolves to loopback, never through DNS, even for a
// connection the intercept did not stop (a speculative one, say).
func (b *browser) resolveLocally(ctx context.Context, host string) error {
	if net.ParseIP(strings.Trim(host, "[]")) != nil {
		return nil
	}
	expr := fmt.Sprintf(`(() => { const n = "network.dns.localDomains", h = %q;
  const names = Services.prefs.getStringPref(n, "").split(",").map(s => s.trim()).filter(Boolean);
  if (!names.includes(h)) { names.push(h); Services.prefs.setStringPref(n, names.join(",")); }
  return names.join(","); })()`, host)
	if _, err := b.chromeEval(ctx, expr); err != nil {
		return fmt.Errorf("resolve %s to loopback: %w", host, err)
	}
	return nil
}

func (ic *interceptor) enqueue(ev networkEvent) {
	ic.mu.Lock()
	ic.queue = append(ic.queue, ev)
	ic.paused = append(ic.paused, ev.Request.URL)
	ic.mu.Unlock()
	select {
	case ic.wake <- struct{}{}:
	default:
	}
}

// stop ends the worker and waits for it.
func (ic *interceptor) stop() {
	ic.cancel()
	<-ic.ended
}

func (ic *interceptor) work(ctx context.Context, b *browser) {
	defer close(ic.ended)
	for {
		select {
		case <-ctx.Done():
			return
		case <-b.done:
			return
		case <-ic.wake:
		}
		ic.mu.Lock()
		q := ic.queue
		ic.queue = nil
		ic.mu.Unlock()
		for _, ev := range q {
			ic.answer(ctx, b, ev)
		}
	}
}

func (ic *interceptor) answer(ctx context.Context, b *browser, ev networkEvent) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	id := ev.Request.Request
	if ev.Request.URL != ic.origin+"/" || ev.Request.Method != "GET" {
		// Not the page document: refuse it instead of sending it off this machine.
		_ = b.call(ctx, "network.failRequest", map[string]any{"request": id}, nil)
		return
	}
	hdr := func(n, v string) map[string]any {
		return map[string]any{"name": n, "value": map[string]any{"type": "string", "value": v}}
	}
	err := b.call(ctx, "network.provideResponse", map[string]any{
		"request": id, "statusCode": 200, "reasonPhrase": "OK",
		"headers": []any{hdr("Content-Type", "text/html; charset=utf-8"), hdr("Cache-Control", "no-store")},
		"body":    map[string]any{"type": "string", "value": ic.html},
	}, nil)
	if err != nil {
		ic.mu.Lock()
		ic.paused = append(ic.paused, "provideResponse failed: "+err.Error())
		ic.mu.Unlock()
		_ = b.call(ctx, "network.failRequest", map[string]any{"request": id}, nil)
	}
}

// urls returns the URLs Firefox paused, in order.
func (ic *interceptor) urls() []string {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	return append([]string(nil), ic.paused...)
}

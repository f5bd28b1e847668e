package chromium

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/chromedp/cdproto/network"

	"github.com/corslab/corslab/harness"
)

// capture records the network events of one tab, per request id, for the
// requests whose URL carries a corslab token. Chrome sends a preflight's and
// its request's events in no fixed order, so everything is keyed by request
// id and correlated by the token in the URL, never by order.
type capture struct {
	mu      sync.Mutex
	byID    map[network.RequestID]*harness.Exchange
	seq     int
	changed chan struct{}
	sends   int // Sends in flight in the tab
}

func newCapture() *capture {
	return &capture{byID: map[network.RequestID]*harness.Exchange{}, changed: make(chan struct{})}
}

// listen is called by chromedp in the tab's event loop, in arrival order: it must return fast.
func (c *capture) listen(ev any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		e := c.get(ev.RequestID)
		if ev.RedirectResponse != nil {
			e.Redirects = append(e.Redirects, harness.Redirect{URL: e.URL, Status: int(ev.RedirectResponse.Status), Headers: lowerHeaders(ev.RedirectResponse.Headers)})
			e.Status, e.ResponseHeaders = 0, nil
		}
		c.seq++
		e.Seq = c.seq
		e.URL = ev.Request.URL
		e.Method = ev.Request.Method
		e.Type = string(ev.Type)
		if ev.Initiator != nil && ev.Initiator.Type == network.InitiatorTypePreflight {
			e.Type = "Preflight"
		}
		if !e.OnWire {
			e.RequestHeaders = lowerHeaders(ev.Request.Headers)
		}
	case *network.EventRequestWillBeSentExtraInfo:
		e := c.get(ev.RequestID)
		e.OnWire = true
		e.RequestHeaders = lowerHeaders(ev.Headers)
		e.CookiesSent, e.CookiesBlocked = nil, nil
		for _, ac := range ev.AssociatedCookies {
			if ac.Cookie == nil {
				continue
			}
			ck := harness.Cookie{Name: ac.Cookie.Name, Value: ac.Cookie.Value, Path: ac.Cookie.Path}
			for _, r := range ac.BlockedReasons {
				ck.Reasons = append(ck.Reasons, string(r))
			}
			if len(ck.Reasons) == 0 {
				e.CookiesSent = append(e.CookiesSent, ck)
			} else {
				e.CookiesBlocked = append(e.CookiesBlocked, ck)
			}
		}
	case *network.EventResponseReceived:
		e := c.get(ev.RequestID)
		if ev.Type == network.ResourceTypePreflight {
			e.Type = "Preflight"
		}
		if ev.Response != nil {
			e.FromCache = e.FromCache || ev.Response.FromDiskCache
			e.Status = int(ev.Response.Status)
			if len(e.ResponseHeaders) == 0 {
				e.ResponseHeaders = lowerHeaders(ev.Response.Headers)
			}
		}
	case *network.EventResponseReceivedExtraInfo:
		e := c.get(ev.RequestID)
		// Chrome sends no responseReceived for a response CORS blocked; this is
		// then the only place its status and headers appear.
		if e.Status == 0 {
			e.Status = int(ev.StatusCode)
		}
		e.ResponseHeaders = lowerHeaders(ev.Headers)
		for _, b := range ev.BlockedCookies {
			name := b.CookieLine
			if b.Cookie != nil {
				name = b.Cookie.Name
			}
			ck := harness.Cookie{Name: name}
			for _, r := range b.BlockedReasons {
				ck.Reasons = append(ck.Reasons, string(r))
			}
			e.SetCookieBlock = append(e.SetCookieBlock, ck)
		}
	case *network.EventRequestServedFromCache:
		c.get(ev.RequestID).FromCache = true
	case *network.EventLoadingFinished:
		c.get(ev.RequestID).Finished = true
	case *network.EventLoadingFailed:
		e := c.get(ev.RequestID)
		e.Finished, e.Failed, e.Canceled = true, true, ev.Canceled
		e.ErrorText = ev.ErrorText
		e.BlockedReason = string(ev.BlockedReason)
		if ev.CorsErrorStatus != nil {
			e.EngineReason = string(ev.CorsErrorStatus.CorsError)
			e.FailedParameter = ev.CorsErrorStatus.FailedParameter
		}
	default:
		return
	}
	close(c.changed)
	c.changed = make(chan struct{})
}

func (c *capture) get(id network.RequestID) *harness.Exchange {
	e := c.byID[id]
	if e == nil {
		e = &harness.Exchange{RequestID: string(id)}
		c.byID[id] = e
	}
	return e
}

// mark returns the sequence number of the last request seen (exchanges of
// a new Send come after it) and counts the Send in flight until its forget.
func (c *capture) mark() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sends++
	return c.seq
}

// view returns copies of the preflight and the actual exchange for token that started after mark.
func (c *capture) view(token string, mark int) (pre, actual *harness.Exchange) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.viewLocked(token, mark)
}

func (c *capture) viewLocked(token string, mark int) (pre, actual *harness.Exchange) {
	for _, e := range c.byID {
		if e.Seq <= mark || !strings.Contains(e.URL, token) {
			continue
		}
		cp := *e
		if e.Type == "Preflight" {
			if pre == nil || cp.Seq > pre.Seq {
				pre = &cp
			}
		} else if actual == nil || cp.Seq > actual.Seq {
			actual = &cp
		}
	}
	return pre, actual
}

// wait blocks until done(pre, actual) is true or ctx ends.
func (c *capture) wait(ctx context.Context, token string, mark int, done func(pre, actual *harness.Exchange) bool) error {
	for {
		c.mu.Lock()
		pre, actual := c.viewLocked(token, mark)
		ch := c.changed
		c.mu.Unlock()
		if done(pre, actual) {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("waiting for Chrome's network events for token %s: %w", token, ctx.Err())
		}
	}
}

// forget drops the exchanges of token, so a long-lived tab does not grow,
// and ends its Send. Events of a request whose requestWillBeSent never
// came (no URL) are dropped when no other Send is in flight: they may be
// another Send's that came first.
func (c *capture) forget(token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sends--
	for id, e := range c.byID {
		if strings.Contains(e.URL, token) || c.sends == 0 && e.URL == "" && e.Seq == 0 {
			delete(c.byID, id)
		}
	}
}

func lowerHeaders(h network.Headers) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		out[strings.ToLower(k)] = fmt.Sprint(v)
	}
	return out
}

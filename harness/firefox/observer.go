package firefox

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/corslab/corslab/harness"
)

// observer records one tab's BiDi network events as Exchanges, keyed by
// request id and correlated with a request by the corslab token in its URL,
// never by order, together with the CORS console messages about that token.
// It is safe for concurrent use.
type observer struct {
	router *router

	mu      sync.Mutex
	byID    map[string]*record // request id → its exchange
	reasons map[string][]consoleMessage
	seq     int
	changed chan struct{} // closed and replaced on every change
}

// record is one exchange and the token it belongs to (from its first URL:
// a redirect may lead to a URL without it).
type record struct {
	token string
	ex    harness.Exchange
	// hop is true when the latest response was a redirect whose
	// responseCompleted arrived: the exchange goes on with the next
	// beforeRequestSent, unless the page did not follow it.
	hop bool
}

func newObserver(r *router) *observer {
	return &observer{router: r, byID: map[string]*record{}, reasons: map[string][]consoleMessage{}, changed: make(chan struct{})}
}

// network records one network event; it runs in the connection's reader.
func (o *observer) network(method string, ev networkEvent) {
	o.mu.Lock()
	defer o.mu.Unlock()
	rec := o.byID[ev.Request.Request]
	if rec == nil {
		tok := tokenOf(ev.Request.URL)
		if tok == "" || method != "network.beforeRequestSent" {
			return // not a corslab request, or one begun before its token was forgotten
		}
		rec = &record{token: tok, ex: harness.Exchange{RequestID: ev.Request.Request}}
		o.byID[ev.Request.Request] = rec
	}
	e := &rec.ex
	// BiDi has no event for a request leaving the browser; its timings
	// have a requestStart once it did, also when no response came.
	sent := ev.Request.Timings.RequestStart > 0 && (ev.Response == nil || !ev.Response.FromCache)
	switch method {
	case "network.beforeRequestSent":
		if e.URL != "" && ev.RedirectCount > len(e.Redirects) {
			// The same request id follows a redirect, one redirectCount up.
			e.Redirects = append(e.Redirects, harness.Redirect{URL: e.URL, Status: e.Status, Headers: e.ResponseHeaders})
			e.Status, e.ResponseHeaders, e.Finished = 0, nil, false
		}
		rec.hop = false
		o.seq++
		e.Seq = o.seq
		e.URL, e.Method = ev.Request.URL, ev.Request.Method
		e.RequestHeaders = headerMap(ev.Request.Headers)
		e.Type = requestType(ev.Request, e.RequestHeaders)
		// BiDi leaves partitioned cookies out of a request's cookies: a
		// third-party cookie from the page site's partition that went out is
		// missing here, so the server's journal is the account of the cookies sent.
		e.CookiesSent = nil
		for _, c := range ev.Request.Cookies {
			e.CookiesSent = append(e.CookiesSent, harness.Cookie{Name: c.Name, Value: c.Value.Value, Path: c.Path})
		}
		e.OnWire = e.OnWire || sent
	case "network.responseStarted", "network.responseCompleted":
		if ev.Response != nil {
			e.Status = ev.Response.Status
			e.ResponseHeaders = headerMap(ev.Response.Headers)
			e.FromCache = ev.Response.FromCache
			e.OnWire = e.OnWire || !ev.Response.FromCache
		}
		e.OnWire = e.OnWire || sent
		if method == "network.responseCompleted" {
			if redirect(e.Status) && e.ResponseHeaders["location"] != "" {
				rec.hop = true
				break // a redirect hop: the next beforeRequestSent continues the exchange
			}
			e.Finished = true
		}
	case "network.fetchError":
		e.Finished, e.Failed = true, true
		e.ErrorText = ev.ErrorText
		e.Canceled = ev.ErrorText == "NS_BINDING_ABORTED"
		e.OnWire = e.OnWire || sent
	}
	o.notifyLocked()
}

// redirect reports whether status is one a browser follows (with a Location).
func redirect(status int) bool {
	switch status {
	case 301, 302, 303, 307, 308:
		return true
	}
	return false
}

// requestType names an exchange as the harness does: "Preflight" for
// Firefox's CORS preflight (OPTIONS with Access-Control-Request-Method and no
// initiator type), "XHR" and "Fetch" for the page's requests, else the
// initiator type or destination BiDi reports.
func requestType(r bidiRequest, h map[string]string) string {
	if r.Method == "OPTIONS" && h["access-control-request-method"] != "" && r.InitiatorType == nil {
		return "Preflight"
	}
	t := r.Destination
	if r.InitiatorType != nil {
		t = *r.InitiatorType
	}
	switch t {
	case "xmlhttprequest":
		return "XHR"
	case "fetch":
		return "Fetch"
	}
	return t
}

func (o *observer) reason(m consoleMessage) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.reasons[m.token] = append(o.reasons[m.token], m)
	o.notifyLocked()
}

func (o *observer) notifyLocked() {
	close(o.changed)
	o.changed = make(chan struct{})
}

// view is what Firefox said about one token so far.
type view struct {
	pre, actual *harness.Exchange // the latest of each; copies
	hop         bool              // actual's latest response is a completed redirect (record.hop)
	reasons     []reason
}

// has reports whether a message of category c arrived.
func (v view) has(c category) bool {
	for _, r := range v.reasons {
		if r.category == c {
			return true
		}
	}
	return false
}

// blocked reports whether an error (not a warning) arrived.
func (v view) blocked() bool {
	for _, r := range v.reasons {
		if !r.warning {
			return true
		}
	}
	return false
}

// first is the first reason that names a block, if any: a category of its
// own before Firefox's generic preflight failure, which follows a failed
// preflight's own message (a redirected preflight logs
// CORSExternalRedirectNotAllowed, then CORSPreflightDidNotSucceed3), so the
// order the messages arrive in cannot change the reason.
func (v view) first() (reason, bool) {
	var generic *reason
	for i, r := range v.reasons {
		switch {
		case r.common == "":
		case r.category == preflightDidNotSucceed:
			if generic == nil {
				generic = &v.reasons[i]
			}
		default:
			return r, true
		}
	}
	if generic != nil {
		return *generic, true
	}
	return reason{}, false
}

// view returns token's latest preflight and actual exchanges (copies) and
// its reasons, each exchange carrying the first block reported about it.
func (o *observer) view(token string) view {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.viewLocked(token)
}

func (o *observer) viewLocked(token string) view {
	var v view
	for _, rec := range o.byID {
		if rec.token != token {
			continue
		}
		cp := rec.ex
		cp.Redirects = append([]harness.Redirect(nil), rec.ex.Redirects...)
		cp.CookiesSent = append([]harness.Cookie(nil), rec.ex.CookiesSent...)
		if cp.Type == "Preflight" {
			if v.pre == nil || cp.Seq > v.pre.Seq {
				v.pre = &cp
			}
		} else if v.actual == nil || cp.Seq > v.actual.Seq {
			v.actual, v.hop = &cp, rec.hop
		}
	}
	v.reasons = classify(o.reasons[token], v.pre, v.actual)
	for _, r := range v.reasons {
		if r.common == "" {
			continue
		}
		target := v.actual
		if r.preflight {
			target = v.pre
		}
		if target != nil && target.EngineReason == "" {
			target.EngineReason, target.FailedParameter = r.category.String(), r.param
		}
	}
	return v
}

// wait blocks until done is true for token's view, or ctx ends, or the browser does.
func (o *observer) wait(ctx context.Context, b *browser, token string, done func(view) bool) error {
	return o.settle(ctx, b, token, func(v view) state {
		if done(v) {
			return final
		}
		return pending
	})
}

// state is how far a view has got.
type state int

const (
	// pending: more is bound to come.
	pending state = iota
	// quiet: the view is final unless something still trails it; it is
	// taken as final when nothing changes it for the trailing time.
	quiet
	// final: nothing more will come.
	final
)

// settle blocks until judge says token's view is final, or has been quiet
// for the trailing time, or ctx ends, or the browser does. ctx ending while
// the view is quiet is no error: the view was final.
func (o *observer) settle(ctx context.Context, b *browser, token string, judge func(view) state) error {
	var quietSince time.Time
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		o.mu.Lock()
		v := o.viewLocked(token)
		ch := o.changed
		o.mu.Unlock()
		var alarm <-chan time.Time
		switch judge(v) {
		case final:
			return nil
		case quiet:
			if quietSince.IsZero() {
				quietSince = time.Now()
			}
			left := trailing - time.Since(quietSince)
			if left <= 0 {
				return nil
			}
			timer.Reset(left)
			alarm = timer.C
		default:
			quietSince = time.Time{}
		}
		select {
		case <-ch:
		case <-alarm:
		case <-ctx.Done():
			if !quietSince.IsZero() {
				return nil
			}
			return context.Cause(ctx)
		case <-b.done:
			return b.died()
		}
	}
}

// forget drops everything recorded for token, so a long-lived tab does not
// grow and a reused token starts afresh.
func (o *observer) forget(token string) {
	o.mu.Lock()
	for id, rec := range o.byID {
		if rec.token == token {
			delete(o.byID, id)
		}
	}
	delete(o.reasons, token)
	o.notifyLocked()
	o.mu.Unlock()
	o.router.forget(token)
}

func headerMap(hs []bidiHeader) map[string]string {
	out := make(map[string]string, len(hs))
	for _, h := range hs {
		k := strings.ToLower(h.Name)
		if v, ok := out[k]; ok {
			out[k] = v + "\n" + h.Value.Value
		} else {
			out[k] = h.Value.Value
		}
	}
	return out
}

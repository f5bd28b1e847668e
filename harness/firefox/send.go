package firefox

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/corslab/corslab/harness"
)

// settle bounds the wait for Firefox's account of a request once the page
// has its answer: its network events and console messages belong to the
// request but may trail the page's callback.
const settle = 2 * time.Second

// trailing bounds the wait for what may still follow a view that is already
// final: Firefox's generic "CORS request did not succeed" message after a
// failed exchange, or the first event of a request the page aborted at once
// (which Firefox may never report).
const trailing = 250 * time.Millisecond

// errSettled ends the waits of a Send whose settle time ran out.
var errSettled = errors.New("settle time over")

// Send runs desc in the page and collects Firefox's account of token's
// requests from the tab's observer, and the server's from server.
func (t *tab) Send(ctx context.Context, desc []byte, token string, server func(context.Context) harness.ServerView) (harness.Sent, error) {
	var out harness.Sent
	t.obs.forget(token) // a reused token starts afresh
	defer t.obs.forget(token)

	t0 := time.Now()
	var page harness.PageView
	if err := t.eval(ctx, "corslab.run("+string(desc)+")", &page); err != nil {
		return out, fmt.Errorf("run the request in the page: %w", err)
	}
	out.Page = page
	out.PageTime = time.Since(t0)

	// The page has its answer; now wait for Firefox's account of the same
	// request, then collect the server's, then anything Firefox still owes.
	t0 = time.Now()
	sctx, cancel := context.WithTimeoutCause(ctx, settle, errSettled)
	defer cancel()
	wctx, wcancel := sctx, context.CancelFunc(func() {})
	if quiet := t.obs.view(token); (page.Event == "abort" || page.Event == "exception") && quiet.actual == nil {
		// Nothing went out yet, and perhaps nothing ever will.
		wctx, wcancel = context.WithTimeoutCause(sctx, trailing, errSettled)
	}
	err := t.obs.wait(wctx, t.b, token, func(v view) bool { return settled(page, v) })
	wcancel()
	incomplete := errors.Is(err, errSettled) && wctx == sctx
	if stop := t.interrupted(ctx, err); stop != nil {
		return out, stop
	}
	if err == nil && trails(t.obs.view(token)) {
		gctx, gcancel := context.WithTimeoutCause(sctx, trailing, errSettled)
		err = t.obs.wait(gctx, t.b, token, func(v view) bool { return v.has(didNotSucceed) })
		gcancel()
		if stop := t.interrupted(ctx, err); stop != nil {
			return out, stop
		}
	}
	out.BrowserTime = time.Since(t0)

	out.Server = server(ctx)

	t0 = time.Now()
	err = t.obs.wait(sctx, t.b, token, func(v view) bool { return covers(out.Server, v) })
	if stop := t.interrupted(ctx, err); stop != nil {
		return out, stop
	}
	incomplete = incomplete || errors.Is(err, errSettled)
	out.BrowserTime += time.Since(t0)

	v := t.obs.view(token)
	b := &out.Browser
	b.Preflight, b.Actual = v.pre, v.actual
	for _, r := range v.reasons {
		b.Messages = append(b.Messages, r.message)
	}
	if r, ok := v.first(); ok {
		b.Reason, b.EngineReason, b.FailedParameter = r.common, r.engineReason(), r.param
	}
	switch {
	case v.pre != nil && v.pre.Failed && (v.actual == nil || !v.actual.OnWire):
		// The preflight failed, so the request never went out: its error is the preflight's.
		b.ErrorText = v.pre.ErrorText
	case v.actual != nil && v.actual.ErrorText != "":
		b.ErrorText = v.actual.ErrorText
	case v.pre != nil && v.pre.ErrorText != "":
		b.ErrorText = v.pre.ErrorText
	}
	if incomplete && ctx.Err() == nil {
		out.Notes = append(out.Notes, "Firefox's events for this request were incomplete after "+settle.String())
	}
	return out, nil
}

// interrupted returns the error that ends a Send early: the browser died
// or was closed. A wait cut short by the caller's ctx or the settle time
// ends nothing: the views collected so far are returned.
func (t *tab) interrupted(ctx context.Context, err error) error {
	if err == nil || errors.Is(err, errSettled) || ctx.Err() != nil && !t.b.ended() {
		return nil
	}
	if errors.Is(err, harness.ErrBrowserDied) || errors.Is(err, errClosed) {
		return fmt.Errorf("wait for Firefox's events: %w", err)
	}
	return nil
}

// ended reports whether the browser is gone.
func (b *browser) ended() bool {
	select {
	case <-b.done:
		return true
	default:
		return false
	}
}

// settled reports whether Firefox's view of a request whose page saw page is
// final: its exchanges have ended and, when the page saw an error, Firefox
// said why (a CORS message, or a network error on the request).
func settled(page harness.PageView, v view) bool {
	pre, a := v.pre, v.actual
	switch page.Event {
	case "unsupported":
		return true // createCORSRequest returned null: nothing was sent
	case "exception":
		if a == nil {
			return true // the call threw before a request began
		}
	}
	if a == nil || !a.Finished || pre != nil && !pre.Finished {
		return false
	}
	switch page.Event {
	case "error", "exception":
		// A response CORS blocked is a completed exchange in BiDi: the
		// reason comes only from the console. A network failure (or a
		// failed preflight) ends in fetchError.
		return v.blocked() || a.Failed
	}
	return true
}

// trails reports whether the generic didNotSucceed message may still follow:
// an exchange failed (not by the page's own abort) and it has not come.
func trails(v view) bool {
	if v.has(didNotSucceed) {
		return false
	}
	failed := func(e *harness.Exchange) bool { return e != nil && e.Failed && !e.Canceled }
	return failed(v.pre) || failed(v.actual)
}

// covers reports whether Firefox's view holds every exchange the server saw.
func covers(sv harness.ServerView, v view) bool {
	if !sv.Recorded {
		return true
	}
	if len(sv.Preflights()) > 0 && (v.pre == nil || !v.pre.Finished) {
		return false
	}
	if acts := sv.Actuals(); len(acts) > 0 {
		if v.actual == nil {
			return false
		}
		answered := false
		for _, e := range acts {
			answered = answered || e.Status > 0
		}
		if answered && v.actual.Status == 0 && !v.actual.Finished {
			return false
		}
	}
	return true
}

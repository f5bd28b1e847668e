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

// trailing is how long a quiet view (see judge) must stay unchanged to be
// taken as final: Firefox's generic "CORS request did not succeed" message
// trails a failed exchange by a few milliseconds, and a request the page
// aborted at once may never be reported at all.
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
	err := t.obs.settle(sctx, t.b, token, func(v view) state { return judge(page, v) })
	if stop := t.interrupted(ctx, err); stop != nil {
		return out, stop
	}
	incomplete := errors.Is(err, errSettled)
	out.BrowserTime = time.Since(t0)

	out.Server = server(ctx)

	t0 = time.Now()
	err = t.obs.wait(sctx, t.b, token, func(v view) bool { return covers(out.Server, v) && judge(page, v) != pending })
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

// judge says how final Firefox's view of a request is, given what the page
// saw: its exchanges must have ended and, when the page saw an error,
// Firefox must have said why (a CORS message) or failed the request.
// Firefox's generic message follows a failed exchange, and a request the
// page stopped or Firefox refused early may never be reported: those views
// are quiet, final unless something still trails them.
func judge(page harness.PageView, v view) state {
	pre, a := v.pre, v.actual
	if page.Event == "unsupported" || page.Event == "exception" && a == nil {
		return final // nothing went out (createCORSRequest returned null, or the call threw first)
	}
	if a == nil {
		if page.Event == "load" {
			return pending
		}
		return quiet // aborted before it began, or refused before the network (fetch's mode)
	}
	if pre != nil && !pre.Finished {
		return pending
	}
	if !a.Finished {
		switch {
		case v.hop && page.ResponseType == "opaqueredirect":
			return final // the page read the redirect itself (fetch's redirect "manual")
		case v.hop && page.Event != "load":
			return quiet // a redirect the page refused (fetch's redirect "error"), or one Firefox is failing
		}
		return pending
	}
	switch page.Event {
	case "error", "exception":
	default:
		return final
	}
	// A response CORS blocked is a completed exchange in BiDi: its reason
	// comes only from the console, where the generic message ends a failure.
	failed := func(e *harness.Exchange) bool { return e != nil && e.Failed && !e.Canceled }
	switch {
	case v.has(didNotSucceed) || a.Canceled:
		return final
	case failed(pre) || failed(a):
		return quiet // the generic message may still follow
	case v.blocked():
		return final
	}
	return pending
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

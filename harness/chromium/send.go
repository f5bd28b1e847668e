package chromium

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/verdict"
)

// Send runs desc in the page and collects Chrome's account of token's
// requests from the tab's capture, and the server's from server.
func (t *tab) Send(ctx context.Context, desc []byte, token string, server func(context.Context) harness.ServerView) (harness.Sent, error) {
	var out harness.Sent
	mark := t.cap.mark()
	defer t.cap.forget(token)

	rctx, cancel := t.bind(ctx)
	defer cancel()
	t0 := time.Now()
	page, err := chromedp.Run(rctx, chromedp.Evaluate[harness.PageView]("corslab.run("+string(desc)+")", chromedp.EvalAwaitPromise))
	if err != nil {
		return out, fmt.Errorf("run the request in the page: %w", err)
	}
	out.Page = page
	out.PageTime = time.Since(t0)
	if strings.Contains(string(desc), `"worker":true`) {
		// The requests of a dedicated worker go through the worker's own
		// DevTools session, which the page's session does not see.
		out.Server = server(rctx)
		out.Browser.Unseen = "Chromium reports a dedicated worker's requests to the worker's own DevTools session, not the page's"
		return out, nil
	}
	t0 = time.Now()
	// The page has its answer; now wait for Chrome's account of the same request.
	switch page.Event {
	case "load", "error", "timeout":
		// Measured in Chromium 156: an opaque (no-cors) response gets no
		// loadingFinished, even once the page read it; its status is the end.
		opaque := page.Event == "load" && page.ResponseType == "opaque"
		err = t.cap.wait(rctx, token, mark, func(_, a *harness.Exchange) bool { return a != nil && (a.Finished || opaque && a.Status > 0) })
		if err != nil {
			return out, err
		}
	case "abort":
		// An abort right after send may stop the request before Chrome reports it at all.
		sctx, scancel := context.WithTimeout(rctx, settle)
		_ = t.cap.wait(sctx, token, mark, func(_, a *harness.Exchange) bool { return a != nil && a.Finished })
		scancel()
	}
	out.BrowserTime = time.Since(t0)
	out.Server = server(rctx)
	t0 = time.Now()
	// Extra-info events (raw headers, cookies, blocked status) trail the end.
	sctx, scancel := context.WithTimeout(rctx, settle)
	werr := t.cap.wait(sctx, token, mark, func(p, a *harness.Exchange) bool {
		return browserComplete(out.Server, p, a)
	})
	scancel()
	out.BrowserTime += time.Since(t0)
	b := &out.Browser
	b.Preflight, b.Actual = t.cap.view(token, mark)
	if werr != nil && ctx.Err() == nil {
		out.Notes = append(out.Notes, "Chrome's events for this request were incomplete after "+settle.String())
	}
	if a := b.Actual; a != nil {
		b.EngineReason, b.FailedParameter, b.ErrorText = a.EngineReason, a.FailedParameter, a.ErrorText
		// Chrome's CorsError values are the common reasons, by construction.
		b.Reason = verdict.Reason(a.EngineReason)
		if fromHTTPCache(a) {
			a.FromCache = true
			out.Notes = append(out.Notes, "Chromium checked a response it never asked the server for: it came from its HTTP cache "+
				"(Chromium reports no event for a cached response that CORS blocks, and none of its headers)")
		}
	}
	return out, nil
}

// fromHTTPCache reports whether Chrome blocked a's response without the
// request ever leaving the browser: a reason about the actual response
// (its Allow-Origin or Allow-Credentials) with no request on the wire and no
// status means the response came from the HTTP cache. Chrome reports that
// (requestServedFromCache, fromDiskCache) only for a response it lets through.
func fromHTTPCache(a *harness.Exchange) bool {
	if a.OnWire || a.Status != 0 || a.EngineReason == "" || a.FromCache {
		return a.FromCache
	}
	info, ok := verdict.Lookup(verdict.Reason(a.EngineReason))
	return ok && !info.Preflight && (info.Header == "Access-Control-Allow-Origin" || info.Header == "Access-Control-Allow-Credentials")
}

// browserComplete reports whether Chrome's view holds every exchange the server saw.
func browserComplete(sv harness.ServerView, pre, actual *harness.Exchange) bool {
	if !sv.Recorded {
		return actual == nil || actual.Finished
	}
	if len(sv.Preflights()) > 0 && (pre == nil || pre.Status == 0 && !pre.Finished) {
		return false
	}
	if acts := sv.Actuals(); len(acts) > 0 {
		if actual == nil || !actual.OnWire {
			return false
		}
		// The server answered, so Chrome saw a status: for a response CORS
		// blocked, it comes only in responseReceivedExtraInfo, which can
		// trail loadingFailed. Wait for it unless the page gave up first.
		answered := false
		for _, e := range acts {
			answered = answered || e.Status > 0
		}
		// A response Chrome could not parse (net::ERR_INVALID_HTTP_RESPONSE)
		// has no status to wait for.
		if answered && actual.Status == 0 && !actual.Canceled && !(actual.Failed && actual.ErrorText != "net::ERR_FAILED") {
			return false
		}
	}
	return true
}

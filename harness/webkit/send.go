package webkit

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/verdict"
	"github.com/corslab/corslab/servers"
)

// settle bounds the wait for the events that trail a request's end (the
// security console message comes after loadingFailed).
const settle = 2 * time.Second

// Send runs desc in the page and collects WebKit's account of token's
// requests from the tab's observer, and the server's from server.
func (h *htab) Send(ctx context.Context, desc []byte, token string, server func(context.Context) harness.ServerView) (harness.Sent, error) {
	var out harness.Sent
	if h.isClosed() {
		return out, errors.New("webkit: the tab is closed")
	}
	t := h.t
	defer t.obs.forget(token)
	var d struct {
		URL    string `json:"url"`
		Method string `json:"method"`
		API    string `json:"api"`
		Sync   bool   `json:"sync"`
	}
	_ = json.Unmarshal(desc, &d)

	t0 := time.Now()
	page, err := t.run(ctx, desc)
	if err != nil {
		return out, err
	}
	out.Page = page
	out.PageTime = time.Since(t0)
	t0 = time.Now()
	// The page has its answer; now wait for the inspector's account of it.
	var v view
	memoryCache := false
	switch page.Event {
	case "load", "error", "timeout", "abort":
		wait := settle
		if page.Event == "load" && !t.obs.seen(token) {
			// The inspector's events for a load reach us before the answer
			// to the call that ran it, except for a response from WebKit's
			// memory cache, which it does not report at all.
			wait = memoryCacheGrace
		}
		sctx, cancel := context.WithTimeout(ctx, wait)
		var werr error
		v, werr = t.obs.wait(sctx, t.s.done, token, complete(d.Sync))
		cancel()
		switch {
		case werr != nil && page.Event == "load" && v.actual == nil && ctx.Err() == nil:
			memoryCache = true
		case werr != nil && page.Event != "abort" && ctx.Err() == nil:
			// An abort right after send may stop the request before WebKit reports it at all.
			out.Notes = append(out.Notes, "WebKit's events for this request were incomplete after "+settle.String())
		}
	default:
		t.obs.mu.Lock()
		v = t.obs.viewLocked(token)
		t.obs.mu.Unlock()
	}
	out.BrowserTime = time.Since(t0)
	out.Server = server(ctx)
	if memoryCache && len(out.Server.Entries) > 0 {
		// The server answered it: the inspector's events are late, not missing.
		memoryCache = false
		t0 = time.Now()
		sctx, cancel := context.WithTimeout(ctx, settle)
		var werr error
		v, werr = t.obs.wait(sctx, t.s.done, token, complete(d.Sync))
		cancel()
		if werr != nil && ctx.Err() == nil {
			out.Notes = append(out.Notes, "WebKit's events for this request were incomplete after "+settle.String())
		}
		out.BrowserTime += time.Since(t0)
	}
	if memoryCache {
		typ := map[string]string{"xhr": "XHR", "fetch": "Fetch"}[d.API] // WebKit's resource types
		v.actual = &harness.Exchange{Method: d.Method, URL: d.URL, Type: typ, Status: page.Status, Finished: true, FromCache: true}
		out.Notes = append(out.Notes, "WebKit's inspector reports nothing of a response from its memory cache: "+
			"the request is shown as answered from the cache because the page read a response and the server received nothing")
	}
	out.Browser = browserView(v, out.Server, d.URL)
	return out, nil
}

// memoryCacheGrace is how long a load the inspector has shown nothing of
// may take to show up before it is taken for a memory-cache answer.
const memoryCacheGrace = 100 * time.Millisecond

// browserView is WebKit's account of one token's request in corslab's
// terms: the actual exchange and WebKit's reason from the inspector, the
// preflight from the server's journal (the inspector shows none).
func browserView(v view, sv harness.ServerView, requestURL string) harness.BrowserView {
	b := harness.BrowserView{PreflightFromJournal: true}
	for _, m := range v.messages {
		b.Messages = append(b.Messages, m.Text)
	}
	preflights, actuals := sv.Preflights(), sv.Actuals()
	if a := v.actual; a != nil {
		b.Actual = a
		b.ErrorText = a.ErrorText
		// WebKit reports the wire headers of a completed request only; a
		// request it blocked on the response went out all the same, which
		// the journal shows.
		if !a.OnWire && !a.FromCache && sv.Recorded && len(actuals) > 0 {
			a.OnWire = true
		}
		// A response WebKit blocked has no status or headers in the
		// inspector (no responseReceived). They are left empty rather than
		// copied from the journal: the transcript's server line shows what
		// the server answered, refine reads the journal itself, and the
		// browser's view keeps to what the browser said.
	}
	if v.sentence != "" && notCORS(v.sentence) {
		// WebKit words it like an access-control failure, but no CORS
		// header is at stake: the page's own settings refused it.
		b.ErrorText = plainWords(v.sentence)
	} else if v.sentence != "" {
		reason, param, ok := parseReason(v.sentence)
		if !ok {
			reason = verdict.Other
		}
		if sv.Recorded && len(preflights) > 0 && len(actuals) == 0 {
			reason = inPreflight(reason)
		}
		b.Reason, b.FailedParameter, b.EngineReason = reason, param, plainWords(v.sentence)
		if b.Actual != nil {
			b.Actual.EngineReason, b.Actual.FailedParameter = b.EngineReason, param
		}
	} else if b.Actual == nil {
		// Stopped before the network: mixed content, or the page's own error.
		switch {
		case v.mixed != "":
			b.ErrorText = plainWords(v.mixed)
		default:
			for _, m := range v.messages {
				if m.Level == "error" {
					b.ErrorText = plainWords(m.Text)
				}
			}
		}
	}
	b.Preflight = journalPreflight(preflights, requestURL)
	if p := b.Preflight; p != nil && b.Reason != "" {
		if in, ok := verdict.Lookup(b.Reason); ok && in.Preflight {
			p.Failed, p.EngineReason, p.FailedParameter = true, b.EngineReason, b.FailedParameter
		}
	}
	return b
}

// journalPreflight is the last preflight the server received for the
// token, as an Exchange: WebKit's inspector shows no preflight, so this is
// the server's record of it (BrowserView.PreflightFromJournal says so).
func journalPreflight(preflights []servers.Entry, requestURL string) *harness.Exchange {
	if len(preflights) == 0 {
		return nil
	}
	e := preflights[len(preflights)-1]
	scheme := "http"
	if u, err := url.Parse(requestURL); err == nil && u.Scheme != "" {
		scheme = u.Scheme
	}
	x := &harness.Exchange{
		Method: e.Method, URL: scheme + "://" + e.Host + e.URL, Type: "Preflight",
		RequestHeaders: headerMap(e.Header, ", "), ResponseHeaders: headerMap(e.Response, "\n"),
		Status: max(e.Status, 0), Finished: e.Status != 0, Failed: e.Status < 0, OnWire: true,
	}
	if e.Status < 0 {
		x.ErrorText = "the server did not answer the preflight"
	}
	return x
}

// headerMap is h with lower-case names, repeated values joined with sep; nil for no header.
func headerMap(h http.Header, sep string) map[string]string {
	if h == nil {
		return nil
	}
	out := make(map[string]string, len(h))
	for k, vs := range h {
		out[strings.ToLower(k)] = strings.Join(vs, sep)
	}
	return out
}

// originOf returns the origin of rawURL ("" when it has none).
func originOf(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

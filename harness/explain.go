package harness

import (
	"fmt"
	"strings"

	"github.com/corslab/corslab/harness/verdict"
)

// Words are the facts of r that fill the reason table's templates
// (verdict.Info): the page origin, the value blamed, and what the response
// the reason is about carried in the header it is about.
func (r Result) Words() verdict.Words {
	b := r.Browser
	w := verdict.Words{Origin: r.PageOrigin, Parameter: b.FailedParameter, Credentials: r.Request.Credentials}
	if b.Reason == verdict.Other {
		w.Parameter = b.EngineReason
	}
	info, _ := verdict.Lookup(b.Reason)
	e := b.Actual
	if info.Preflight {
		e = b.Preflight
	}
	if e != nil {
		w.Status = e.Status
		if info.Header != "" {
			w.Sent = e.ResponseHeaders[strings.ToLower(info.Header)]
			if w.Sent == "" && info.Header == "Location" && len(e.Redirects) > 0 {
				w.Sent = e.Redirects[len(e.Redirects)-1].Headers["location"]
			}
		}
	}
	return w
}

// Explain says in plain words what the server would have to send for the
// page to read the response, from the three views (the engine's reason and
// the value it blamed, the headers on the wire, what the server received).
// It returns "" when the page read the response.
func (r Result) Explain() string {
	v := r.Verdict()
	switch v.Outcome {
	case verdict.Allowed:
		return ""
	case verdict.Blocked:
		if s := r.rejectedBeforeHandlers(); s != "" {
			return s
		}
		if a := r.Browser.Actual; a != nil && a.FromCache {
			return "the browser answered from its HTTP cache, with a response the server sent earlier (it named " +
				orNone(a.ResponseHeaders["access-control-allow-origin"]) + " in Access-Control-Allow-Origin); the server was not asked. " +
				"A response that names the requesting origin must say Vary: Origin (or Cache-Control: no-store), so no cache serves one origin's answer to another"
		}
		return v.Reason.Remedy(r.Words())
	case verdict.Opaque:
		return "no-cors gives the page an opaque response it cannot read at all; to read it, the page must send a cors request (mode \"cors\") and the response must carry Access-Control-Allow-Origin"
	case verdict.Aborted, verdict.TimedOut:
		return "the page ended the request itself (" + string(v.Outcome) + "), before the server answered; no CORS header is involved"
	case verdict.Unsupported:
		return "createCORSRequest found no CORS transport and returned null; no request was sent"
	case verdict.Threw:
		return "the page's call threw before anything was sent (" + v.Parameter + "); no CORS header is involved"
	}
	if s := r.rejectedBeforeHandlers(); s != "" {
		return s
	}
	if r.mixedContent() {
		return fmt.Sprintf("no CORS header would help: %s blocked a request from an https page (%s) to an http URL as mixed content, before it went out; "+
			"serve the API over HTTPS (a real site's page would call https too), or run the page as an http origin", r.browserName(), r.PageOrigin)
	}
	if v.Parameter != "" && v.Parameter != "net::ERR_FAILED" {
		return fmt.Sprintf("no CORS header would help: the request failed on the network (%s); the server must be reachable at %s", v.Parameter, r.URL)
	}
	return "the page saw on" + r.Page.Event + " but " + r.browserName() + " reported no CORS reason and no network error; read the transcript"
}

// mixedContent reports whether the engine refused r as mixed content: an
// https page's request to an http URL (WebKit does so even on loopback).
func (r Result) mixedContent() bool {
	return strings.HasPrefix(r.PageOrigin, "https://") && strings.HasPrefix(r.URL, "http://") &&
		strings.Contains(r.Browser.ErrorText, "insecure content")
}

// rejectedBeforeHandlers explains a request the server refused before any
// handler ran: Go's HTTP server answers 400 to a request it cannot parse
// (a header value with a control byte, say), and the journal, a handler,
// never sees it.
func (r Result) rejectedBeforeHandlers() string {
	if a := r.Browser.Actual; a != nil && a.Status == 400 && r.Server.Recorded && len(r.Server.Actuals()) == 0 {
		return "the server refused the request before any handler ran (400: Go's HTTP server could not parse it, for example a header value with a control byte); no CORS header is involved"
	}
	return ""
}

func orNone(s string) string {
	if s == "" {
		return "no origin"
	}
	return s
}

package lab

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/servers"
)

// The lifelines of the sequence diagram.
const (
	Page    = "page"    // the page's JavaScript
	Browser = "browser" // the browser engine
	Server  = "server"  // the API origin
)

// The kinds of Arrow, in the order they can appear.
const (
	KindCall              = "call"               // the page asks the browser to send
	KindPreflight         = "preflight"          // OPTIONS goes out
	KindPreflightResponse = "preflight-response" // the preflight's answer
	KindPreflightFailed   = "preflight-failed"   // the preflight got no answer
	KindCache             = "cache"              // a needed preflight was answered from the cache
	KindSimple            = "simple"             // no preflight was needed
	KindRequest           = "request"            // the actual request goes out
	KindNeverSent         = "never-sent"         // the browser stopped the request before the wire
	KindResponse          = "response"           // the actual answer
	KindNoAnswer          = "no-answer"          // the request failed on the network or got no answer
	KindHTTPCache         = "http-cache"         // the browser answered from its HTTP cache
	KindCallback          = "callback"           // what the page's JavaScript got
)

// Arrow is one step of the lab's sequence diagram of a Result.
type Arrow struct {
	From    string   `json:"from"`
	To      string   `json:"to"` // the same as From for a note on one lifeline
	Kind    string   `json:"kind"`
	Label   string   `json:"label"`
	Headers []string `json:"headers"`
	Bad     bool     `json:"bad"` // this arrow is where the request failed
}

// Diagram turns r into the arrows of a sequence diagram: page → browser,
// preflight (or the cache note), actual request and answer, and what the
// page got back. It reads only r, so the diagram is the Result drawn.
func Diagram(r harness.Result) []Arrow {
	b := r.Browser
	req := r.Request
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	call := Arrow{From: Page, To: Browser, Kind: KindCall, Label: callLabel(r, method)}
	for _, h := range req.Headers {
		call.Headers = append(call.Headers, h.Name+": "+h.Value)
	}
	if req.Credentials {
		call.Headers = append(call.Headers, map[bool]string{true: `credentials: "include"`, false: "withCredentials = true"}[req.API == harness.Fetch])
	}
	out := []Arrow{call}

	actualSent := b.Actual != nil && (b.Actual.OnWire || b.Actual.Status > 0)
	blockedBeforeWire := b.Reason != "" && !actualSent
	switch p := b.Preflight; {
	case p != nil:
		out = append(out, Arrow{From: Browser, To: Server, Kind: KindPreflight, Label: "OPTIONS " + pathOf(p.URL), Headers: harness.HeaderLines(p.RequestHeaders, true)})
		if p.Status > 0 {
			out = append(out, Arrow{From: Server, To: Browser, Kind: KindPreflightResponse, Label: statusLine(p.Status),
				Headers: harness.HeaderLines(p.ResponseHeaders, false), Bad: blockedBeforeWire})
		} else {
			out = append(out, Arrow{From: Server, To: Browser, Kind: KindPreflightFailed, Label: orElse(p.ErrorText, "no answer"), Bad: true})
		}
	case r.PreflightFromCache():
		out = append(out, Arrow{From: Browser, To: Browser, Kind: KindCache, Label: "answered from preflight cache: no OPTIONS went out"})
	case !r.NeedsPreflight() && r.Page.Event != "unsupported" && r.Page.Event != "exception":
		out = append(out, Arrow{From: Browser, To: Browser, Kind: KindSimple, Label: "simple request: no preflight needed"})
	}

	a := b.Actual
	switch {
	case a == nil && (r.Page.Event == "unsupported" || r.Page.Event == "exception"):
		// Nothing reached the browser's network stack.
	case a == nil:
		out = append(out, Arrow{From: Browser, To: Browser, Kind: KindNeverSent, Label: "the browser never sent the request"})
	case blockedBeforeWire:
		out = append(out, Arrow{From: Browser, To: Browser, Kind: KindNeverSent, Label: method + " never sent: " + engineTitle(r) + " stopped it before the wire"})
	case a.FromCache:
		out = append(out, Arrow{From: Browser, To: Browser, Kind: KindHTTPCache, Label: a.Method + " answered from " + engineTitle(r) + "'s HTTP cache: the server was not asked",
			Headers: harness.HeaderLines(a.ResponseHeaders, false), Bad: b.Reason != ""})
	default:
		out = append(out, Arrow{From: Browser, To: Server, Kind: KindRequest, Label: a.Method + " " + pathOf(a.URL), Headers: harness.HeaderLines(a.RequestHeaders, true)})
		answered := answeredEntry(r)
		switch {
		case a.Status > 0:
			out = append(out, Arrow{From: Server, To: Browser, Kind: KindResponse, Label: statusLine(a.Status),
				Headers: harness.HeaderLines(a.ResponseHeaders, false), Bad: b.Reason != ""})
		case answered != nil:
			// The engine's account of a blocked response (Chromium's
			// responseReceivedExtraInfo) can trail the failure and miss the
			// Result; the server's journal says it answered, and Policy.Answer
			// is what it sent.
			_, h := r.Request.Policy.Answer(false, answered.Origin(), r.Token)
			lower := map[string]string{}
			for k, v := range h {
				lower[strings.ToLower(k)] = strings.Join(v, "\n")
			}
			out = append(out, Arrow{From: Server, To: Browser, Kind: KindResponse, Label: statusLine(answered.Status) + " (from the server's journal)",
				Headers: harness.HeaderLines(lower, false), Bad: b.Reason != ""})
		default:
			out = append(out, Arrow{From: Server, To: Browser, Kind: KindNoAnswer, Label: orElse(a.ErrorText, "no answer"), Bad: true})
		}
	}

	back := Arrow{From: Browser, To: Page, Kind: KindCallback, Label: pageLabel(r.Page), Bad: r.Page.Event != "load"}
	for k, v := range r.Page.Headers {
		back.Headers = append(back.Headers, k+": "+v)
	}
	sort.Strings(back.Headers)
	return append(out, back)
}

func callLabel(r harness.Result, method string) string {
	if r.Request.API == harness.Fetch {
		return fmt.Sprintf("fetch(url, {method: %q})", method)
	}
	return fmt.Sprintf("createCORSRequest(%q, url).send()", method)
}

func pageLabel(p harness.PageView) string {
	var s string
	switch {
	case p.Transport == "fetch" && p.Event == "load":
		s = fmt.Sprintf("fetch resolved: status %d", p.Status)
	case p.Transport == "fetch":
		s = "fetch rejected (" + p.Event + ")"
	case p.Event == "unsupported":
		return "createCORSRequest returned null"
	case p.Event == "exception":
		return "threw: " + p.Error
	default:
		s = fmt.Sprintf("on%s: status %d", p.Event, p.Status)
	}
	if p.ResponseText != "" {
		s += fmt.Sprintf(", text %q", trunc(p.ResponseText, 40))
	} else if p.Event != "load" || p.ResponseType == "opaque" {
		s += `, text ""`
	}
	if p.Error != "" && p.Transport == "fetch" {
		s += ": " + p.Error
	}
	return s
}

func statusLine(code int) string { return fmt.Sprintf("%d %s", code, http.StatusText(code)) }

func pathOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	p := u.Path
	// The token is long and says nothing to a reader: shorten it.
	if rest, ok := strings.CutPrefix(p, "/cors/"); ok {
		tok, tail, _ := strings.Cut(rest, "/")
		p = "/cors/" + trunc(tok, 6)
		if tail != "" {
			p += "/" + tail
		}
	}
	if u.RawQuery != "" {
		p += "?…"
	}
	return p
}

func orElse(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func trunc(s string, n int) string {
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// answeredEntry is the server's answered actual request of r, or nil.
func answeredEntry(r harness.Result) *servers.Entry {
	for _, e := range r.Server.Actuals() {
		if e.Status > 0 {
			return &e
		}
	}
	return nil
}

// engineTitle names the engine of r, or "the browser".
func engineTitle(r harness.Result) string {
	if r.Engine == "" {
		return "the browser"
	}
	return r.Engine.Title()
}

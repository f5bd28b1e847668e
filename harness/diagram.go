package harness

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/corslab/corslab/servers"
)

// The lifelines of a Result's sequence diagram.
const (
	LifelinePage    = "page"    // the page's JavaScript
	LifelineBrowser = "browser" // the browser engine
	LifelineServer  = "server"  // the API origin
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

// Arrow is one step of a Result's sequence diagram (the lab draws it,
// Mermaid writes it, the HTML report shows it).
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
func (r Result) Diagram() []Arrow {
	b := r.Browser
	req := r.Request
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	call := Arrow{From: LifelinePage, To: LifelineBrowser, Kind: KindCall, Label: diagramCallLabel(r, method)}
	for _, h := range req.Headers {
		call.Headers = append(call.Headers, h.Name+": "+h.Value)
	}
	if req.Credentials {
		call.Headers = append(call.Headers, map[bool]string{true: `credentials: "include"`, false: "withCredentials = true"}[req.API == Fetch])
	}
	out := []Arrow{call}

	actualSent := b.Actual != nil && (b.Actual.OnWire || b.Actual.Status > 0)
	blockedBeforeWire := b.Reason != "" && !actualSent
	switch p := b.Preflight; {
	case p != nil:
		out = append(out, Arrow{From: LifelineBrowser, To: LifelineServer, Kind: KindPreflight, Label: "OPTIONS " + diagramPathOf(p.URL), Headers: HeaderLines(p.RequestHeaders, true)})
		if p.Status > 0 {
			out = append(out, Arrow{From: LifelineServer, To: LifelineBrowser, Kind: KindPreflightResponse, Label: diagramStatusLine(p.Status),
				Headers: HeaderLines(p.ResponseHeaders, false), Bad: blockedBeforeWire})
		} else {
			out = append(out, Arrow{From: LifelineServer, To: LifelineBrowser, Kind: KindPreflightFailed, Label: diagramOrElse(p.ErrorText, "no answer"), Bad: true})
		}
	case r.PreflightFromCache():
		out = append(out, Arrow{From: LifelineBrowser, To: LifelineBrowser, Kind: KindCache, Label: "answered from preflight cache: no OPTIONS went out"})
	case !r.NeedsPreflight() && r.Page.Event != "unsupported" && r.Page.Event != "exception":
		out = append(out, Arrow{From: LifelineBrowser, To: LifelineBrowser, Kind: KindSimple, Label: "simple request: no preflight needed"})
	}

	a := b.Actual
	switch {
	case a == nil && (r.Page.Event == "unsupported" || r.Page.Event == "exception"):
		// Nothing reached the browser's network stack.
	case a == nil:
		out = append(out, Arrow{From: LifelineBrowser, To: LifelineBrowser, Kind: KindNeverSent, Label: "the browser never sent the request"})
	case blockedBeforeWire:
		out = append(out, Arrow{From: LifelineBrowser, To: LifelineBrowser, Kind: KindNeverSent, Label: method + " never sent: " + r.browserName() + " stopped it before the wire"})
	case a.FromCache:
		out = append(out, Arrow{From: LifelineBrowser, To: LifelineBrowser, Kind: KindHTTPCache, Label: a.Method + " answered from " + r.browserName() + "'s HTTP cache: the server was not asked",
			Headers: HeaderLines(a.ResponseHeaders, false), Bad: b.Reason != ""})
	default:
		out = append(out, Arrow{From: LifelineBrowser, To: LifelineServer, Kind: KindRequest, Label: a.Method + " " + diagramPathOf(a.URL), Headers: HeaderLines(a.RequestHeaders, true)})
		answered := diagramAnsweredEntry(r)
		switch {
		case a.Status > 0:
			out = append(out, Arrow{From: LifelineServer, To: LifelineBrowser, Kind: KindResponse, Label: diagramStatusLine(a.Status),
				Headers: HeaderLines(a.ResponseHeaders, false), Bad: b.Reason != ""})
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
			out = append(out, Arrow{From: LifelineServer, To: LifelineBrowser, Kind: KindResponse, Label: diagramStatusLine(answered.Status) + " (from the server's journal)",
				Headers: HeaderLines(lower, false), Bad: b.Reason != ""})
		default:
			out = append(out, Arrow{From: LifelineServer, To: LifelineBrowser, Kind: KindNoAnswer, Label: diagramOrElse(a.ErrorText, "no answer"), Bad: true})
		}
	}

	back := Arrow{From: LifelineBrowser, To: LifelinePage, Kind: KindCallback, Label: diagramPageLabel(r.Page), Bad: r.Page.Event != "load"}
	for k, v := range r.Page.Headers {
		back.Headers = append(back.Headers, k+": "+v)
	}
	sort.Strings(back.Headers)
	return append(out, back)
}

func diagramCallLabel(r Result, method string) string {
	if r.Request.API == Fetch {
		return fmt.Sprintf("fetch(url, {method: %q})", method)
	}
	return fmt.Sprintf("createCORSRequest(%q, url).send()", method)
}

func diagramPageLabel(p PageView) string {
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
		s += fmt.Sprintf(", text %q", truncate(p.ResponseText, 40))
	} else if p.Event != "load" || p.ResponseType == "opaque" {
		s += `, text ""`
	}
	if p.Error != "" && p.Transport == "fetch" {
		s += ": " + p.Error
	}
	return s
}

func diagramStatusLine(code int) string { return fmt.Sprintf("%d %s", code, http.StatusText(code)) }

func diagramPathOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	p := u.Path
	// The token is long and says nothing to a reader: shorten it.
	if rest, ok := strings.CutPrefix(p, "/cors/"); ok {
		tok, tail, _ := strings.Cut(rest, "/")
		p = "/cors/" + truncate(tok, 6)
		if tail != "" {
			p += "/" + tail
		}
	}
	if u.RawQuery != "" {
		p += "?…"
	}
	return p
}

func diagramOrElse(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// answeredEntry is the server's answered actual request of r, or nil.
func diagramAnsweredEntry(r Result) *servers.Entry {
	for _, e := range r.Server.Actuals() {
		if e.Status > 0 {
			return &e
		}
	}
	return nil
}

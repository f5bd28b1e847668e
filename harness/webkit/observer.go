package webkit

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/corslab/corslab/harness"
)

// maxLoose bounds the console messages kept that name no request (WebKit's
// security messages): they are matched to a token by their text, and the
// oldest are dropped.
const maxLoose = 256

// maxMessages bounds the other console messages kept: a token's are
// dropped when its request is done (forget), the rest are the oldest.
const maxMessages = 1024

// observer records one tab's inspector Network and Console events as
// Exchanges, keyed by target and request id, and ties them to a corslab
// token by the token in their URL, never by order.
type observer struct {
	mu        sync.Mutex
	byID      map[string]*harness.Exchange
	messages  []consoleMessage // messages that name a request or a URL
	loose     []consoleMessage // security messages that name neither, newest last
	forgotten map[string]bool  // request ids of forgotten exchanges: their late events are dropped
	seq       int
	changed   chan struct{} // closed and replaced on every change
}

// consoleMessage is one Console.messageAdded.
type consoleMessage struct {
	Source    string // "security", "network", "javascript", ...
	Level     string // "error", "warning", ...
	Text      string
	URL       string
	RequestID string // networkRequestId, prefixed with its target; "" when the message has none
	seq       int
}

func newObserver() *observer {
	return &observer{byID: map[string]*harness.Exchange{}, forgotten: map[string]bool{}, changed: make(chan struct{})}
}

type wkRequest struct {
	URL     string            `json:"url"`
	Method  string            `json:"method"`
	Headers map[string]string `json:"headers"`
}

type wkResponse struct {
	URL     string            `json:"url"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Source  string            `json:"source"` // "network", "memory-cache", "disk-cache", ...
}

// handle takes one event; it runs in the session's read loop.
func (o *observer) handle(target, method string, params json.RawMessage) {
	if !strings.HasPrefix(method, "Network.") && method != "Console.messageAdded" {
		return
	}
	var p struct {
		RequestID        string      `json:"requestId"`
		Type             string      `json:"type"`
		Request          *wkRequest  `json:"request"`
		RedirectResponse *wkResponse `json:"redirectResponse"`
		Response         *wkResponse `json:"response"`
		ErrorText        string      `json:"errorText"`
		Canceled         bool        `json:"canceled"`
		Metrics          *struct {
			RequestHeaders map[string]string `json:"requestHeaders"`
		} `json:"metrics"`
		Message *struct {
			Source           string `json:"source"`
			Level            string `json:"level"`
			Text             string `json:"text"`
			URL              string `json:"url"`
			NetworkRequestID string `json:"networkRequestId"`
		} `json:"message"`
	}
	if err := json.Unmarshal(params, &p); err != nil {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	id := ""
	if p.RequestID != "" {
		id = target + "/" + p.RequestID
		if o.forgotten[id] {
			return
		}
	}
	switch method {
	case "Network.requestWillBeSent":
		if p.Request == nil {
			return
		}
		e := o.get(id)
		if p.RedirectResponse != nil {
			e.Redirects = append(e.Redirects, harness.Redirect{URL: e.URL, Status: p.RedirectResponse.Status, Headers: lower(p.RedirectResponse.Headers)})
			e.Status, e.ResponseHeaders = 0, nil
		}
		o.seq++
		e.Seq = o.seq
		e.URL, e.Method, e.Type = p.Request.URL, p.Request.Method, p.Type
		e.RequestHeaders = lower(p.Request.Headers)
	case "Network.responseReceived":
		e := o.get(id)
		if p.Type != "" {
			e.Type = p.Type
		}
		if p.Response != nil {
			e.Status = p.Response.Status
			e.ResponseHeaders = lower(p.Response.Headers)
			e.FromCache = p.Response.Source == "memory-cache" || p.Response.Source == "disk-cache"
		}
	case "Network.loadingFinished":
		e := o.get(id)
		e.Finished = true
		if p.Metrics != nil && len(p.Metrics.RequestHeaders) > 0 {
			e.OnWire = true
			e.RequestHeaders = lower(p.Metrics.RequestHeaders)
			e.CookiesSent = cookiesOf(e.RequestHeaders["cookie"])
		}
	case "Network.loadingFailed":
		e := o.get(id)
		e.Finished, e.Failed, e.Canceled = true, true, p.Canceled
		e.ErrorText = p.ErrorText
	case "Console.messageAdded":
		if p.Message == nil {
			return
		}
		o.seq++
		m := consoleMessage{Source: p.Message.Source, Level: p.Message.Level, Text: p.Message.Text, URL: p.Message.URL, seq: o.seq}
		if p.Message.NetworkRequestID != "" {
			m.RequestID = target + "/" + p.Message.NetworkRequestID
			if o.forgotten[m.RequestID] {
				return
			}
		}
		if m.URL == "" && m.RequestID == "" && m.Source == "security" {
			o.loose = append(o.loose, m)
			if len(o.loose) > maxLoose {
				o.loose = append([]consoleMessage(nil), o.loose[len(o.loose)-maxLoose:]...)
			}
		} else {
			o.messages = append(o.messages, m)
			if len(o.messages) > maxMessages {
				// Messages no token claimed (a long-lived tab's own): the oldest go.
				o.messages = append([]consoleMessage(nil), o.messages[len(o.messages)-maxMessages:]...)
			}
		}
	default:
		return
	}
	close(o.changed)
	o.changed = make(chan struct{})
}

func (o *observer) get(id string) *harness.Exchange {
	e := o.byID[id]
	if e == nil {
		e = &harness.Exchange{RequestID: id}
		o.byID[id] = e
	}
	return e
}

// failedDocument returns the error text of a failed document request for url.
func (o *observer) failedDocument(url string) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, e := range o.byID {
		if e.Type == "Document" && e.URL == url && e.Failed {
			return e.ErrorText
		}
	}
	return ""
}

// view is what the inspector showed of one token's requests.
type view struct {
	// actual is the token's latest exchange (a copy); nil when WebKit never started one.
	actual *harness.Exchange
	// messages are the token's console messages: those whose URL, text or
	// request id names it, and the security messages that repeat the error
	// text of one of its exchanges.
	messages []consoleMessage
	// sentence is WebKit's reason for blocking the actual request: the
	// security console message that repeats its error text, else the error
	// text when it is a sentence WebKit is known to block with; "" when
	// WebKit did not block it for CORS.
	sentence string
	// confirmed is true when a security console message repeats sentence.
	confirmed bool
	// mixed is the security message of a request blocked as mixed content
	// before the network ("" for none).
	mixed string
}

func (o *observer) viewLocked(token string) view {
	var v view
	ids := map[string]bool{}
	errTexts := map[string]bool{}
	first := 0
	for id, e := range o.byID {
		if !strings.Contains(e.URL, token) {
			continue
		}
		ids[id] = true
		if e.ErrorText != "" {
			errTexts[e.ErrorText] = true
		}
		if first == 0 || e.Seq < first {
			first = e.Seq
		}
		if v.actual == nil || e.Seq > v.actual.Seq {
			cp := *e
			v.actual = &cp
		}
	}
	for _, m := range o.messages {
		if ids[m.RequestID] || strings.Contains(m.URL, token) || strings.Contains(m.Text, token) {
			v.messages = append(v.messages, m)
		}
	}
	// A security message names no request: it belongs to the token when it
	// repeats the error text of one of the token's requests and came after
	// the token's first request started, or when its text names the token.
	for _, m := range o.loose {
		if m.seq > first && first > 0 && errTexts[m.Text] || strings.Contains(m.Text, token) {
			v.messages = append(v.messages, m)
		}
	}
	if a := v.actual; a != nil {
		if _, _, ok := parseReason(a.ErrorText); ok {
			v.sentence = a.ErrorText
		}
		for _, m := range v.messages {
			if m.Source == "security" && m.Level == "error" && a.ErrorText != "" && m.Text == a.ErrorText {
				v.sentence, v.confirmed = m.Text, true
			}
		}
	}
	for _, m := range v.messages {
		if m.Source == "security" && isMixedContent(m.Text) {
			v.mixed = strings.TrimSpace(m.Text)
		}
	}
	return v
}

// seen reports whether the inspector showed a request of token.
func (o *observer) seen(token string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, e := range o.byID {
		if strings.Contains(e.URL, token) {
			return true
		}
	}
	return false
}

// wait blocks until done(view of token) is true, ctx ends or stop closes;
// it returns the last view.
func (o *observer) wait(ctx context.Context, stop <-chan struct{}, token string, done func(view) bool) (view, error) {
	for {
		o.mu.Lock()
		v := o.viewLocked(token)
		ch := o.changed
		o.mu.Unlock()
		if done(v) {
			return v, nil
		}
		select {
		case <-ch:
		case <-stop:
			return v, fmt.Errorf("the inspector connection closed while waiting for the events of token %s", token)
		case <-ctx.Done():
			return v, fmt.Errorf("waiting for the inspector's events for token %s: %w", token, context.Cause(ctx))
		}
	}
}

// clear drops everything recorded.
func (o *observer) clear() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.byID, o.messages, o.loose, o.forgotten = map[string]*harness.Exchange{}, nil, nil, map[string]bool{}
}

// forget drops everything recorded for token, so a long-lived tab does not
// grow; late events of its requests are dropped.
func (o *observer) forget(token string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.forgotten) > 4096 {
		o.forgotten = map[string]bool{}
	}
	errTexts := map[string]bool{}
	for id, e := range o.byID {
		if strings.Contains(e.URL, token) || e.URL == "" {
			delete(o.byID, id)
			o.forgotten[id] = true
			if e.ErrorText != "" {
				errTexts[e.ErrorText] = true
			}
		}
	}
	keep := o.messages[:0]
	for _, m := range o.messages {
		if !o.forgotten[m.RequestID] && !strings.Contains(m.URL, token) && !strings.Contains(m.Text, token) {
			keep = append(keep, m)
		}
	}
	o.messages = keep
	loose := o.loose[:0]
	for _, m := range o.loose {
		if !errTexts[m.Text] && !strings.Contains(m.Text, token) {
			loose = append(loose, m)
		}
	}
	o.loose = loose
}

// complete is a wait condition: the request ended in the inspector's view
// and, if WebKit blocked it for CORS, its security message arrived. A
// synchronous XHR gets none (measured: only the network and JavaScript
// messages): for it the network message of the request is the last.
func complete(sync bool) func(view) bool {
	return func(v view) bool {
		a := v.actual
		if a == nil {
			// WebKit refused it before the network: an error message names it
			// (the page's own, or one about the URL, e.g. a restricted port).
			for _, m := range v.messages {
				if m.Level == "error" {
					return true
				}
			}
			return false
		}
		if !a.Finished {
			return false
		}
		if !a.Failed || a.Canceled || v.sentence == "" || v.confirmed {
			return true
		}
		if sync {
			for _, m := range v.messages {
				if m.Source == "network" && m.RequestID == a.RequestID {
					return true
				}
			}
		}
		return false
	}
}

func lower(h map[string]string) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		out[strings.ToLower(k)] = v
	}
	return out
}

func cookiesOf(header string) []harness.Cookie {
	if header == "" {
		return nil
	}
	cs, err := http.ParseCookie(header)
	if err != nil {
		return nil
	}
	out := make([]harness.Cookie, 0, len(cs))
	for _, c := range cs {
		out = append(out, harness.Cookie{Name: c.Name, Value: c.Value})
	}
	return out
}

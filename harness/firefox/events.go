package firefox

import (
	"encoding/json"
	"sync"
)

// subscribedEvents are the BiDi events the browser subscribes to once, for every context.
var subscribedEvents = []string{
	"network.beforeRequestSent",
	"network.responseStarted",
	"network.responseCompleted",
	"network.fetchError",
	"script.message",
}

// The BiDi network event parameters corslab reads.
type (
	bidiValue struct {
		Type  string `json:"type"`
		Value string `json:"value"`
	}
	bidiHeader struct {
		Name  string    `json:"name"`
		Value bidiValue `json:"value"`
	}
	bidiCookie struct {
		Name   string    `json:"name"`
		Value  bidiValue `json:"value"`
		Domain string    `json:"domain"`
		Path   string    `json:"path"`
	}
	bidiRequest struct {
		Request       string       `json:"request"`
		URL           string       `json:"url"`
		Method        string       `json:"method"`
		Headers       []bidiHeader `json:"headers"`
		Cookies       []bidiCookie `json:"cookies"`
		Destination   string       `json:"destination"`
		InitiatorType *string      `json:"initiatorType"`
		Timings       struct {
			// RequestStart is when the request began to go out (ms since the
			// epoch); 0 while it has not, and for one that never does.
			RequestStart float64 `json:"requestStart"`
		} `json:"timings"`
	}
	bidiResponse struct {
		URL        string       `json:"url"`
		Status     int          `json:"status"`
		StatusText string       `json:"statusText"`
		Headers    []bidiHeader `json:"headers"`
		FromCache  bool         `json:"fromCache"`
	}
	networkEvent struct {
		Context       *string       `json:"context"`
		RedirectCount int           `json:"redirectCount"`
		Request       bidiRequest   `json:"request"`
		Timestamp     float64       `json:"timestamp"`
		IsBlocked     bool          `json:"isBlocked"`
		Intercepts    []string      `json:"intercepts"`
		Response      *bidiResponse `json:"response"`
		ErrorText     string        `json:"errorText"`
	}
	scriptMessage struct {
		Channel string    `json:"channel"`
		Data    bidiValue `json:"data"`
	}
)

// router hands each event to whoever owns it: network events to the
// observer of their browsing context (a tab), console reasons to the
// observer that saw their token, paused requests to the interceptor that
// paused them. It runs in the connection's reader: every handler it calls
// must be fast.
type router struct {
	mu         sync.Mutex
	byContext  map[string]*observer          // browsing context id → its observer
	byToken    map[string]*observer          // token → the observer that saw it
	intercepts map[string]func(networkEvent) // intercept id → its handler
	orphans    []consoleMessage              // reasons whose token no observer has seen yet
}

// maxOrphans bounds the console reasons kept for tokens no observer has seen.
const maxOrphans = 256

func newRouter() *router {
	return &router{byContext: map[string]*observer{}, byToken: map[string]*observer{}, intercepts: map[string]func(networkEvent){}}
}

func (r *router) dispatch(method string, params json.RawMessage) {
	switch method {
	case "network.beforeRequestSent", "network.responseStarted", "network.responseCompleted", "network.fetchError":
		var ev networkEvent
		if json.Unmarshal(params, &ev) != nil {
			return
		}
		if method == "network.beforeRequestSent" && ev.IsBlocked {
			r.mu.Lock()
			var hs []func(networkEvent)
			for _, id := range ev.Intercepts {
				if h := r.intercepts[id]; h != nil {
					hs = append(hs, h)
				}
			}
			r.mu.Unlock()
			for _, h := range hs {
				h(ev)
			}
		}
		if ev.Context == nil {
			return
		}
		r.mu.Lock()
		o := r.byContext[*ev.Context]
		r.mu.Unlock()
		if o == nil {
			return
		}
		if method == "network.beforeRequestSent" {
			if tok := tokenOf(ev.Request.URL); tok != "" {
				r.seen(tok, o)
			}
		}
		o.network(method, ev)
	case "script.message":
		var sm scriptMessage
		if json.Unmarshal(params, &sm) != nil || sm.Channel != consoleChannel {
			return
		}
		var m consoleMessage
		if json.Unmarshal([]byte(sm.Data.Value), &m) != nil {
			return
		}
		r.console(m)
	}
}

// seen records that o owns tok and hands it the reasons that came first.
func (r *router) seen(tok string, o *observer) {
	r.mu.Lock()
	if r.byToken[tok] == o {
		r.mu.Unlock()
		return
	}
	r.byToken[tok] = o
	var early []consoleMessage
	kept := r.orphans[:0]
	for _, m := range r.orphans {
		if m.token == tok {
			early = append(early, m)
		} else {
			kept = append(kept, m)
		}
	}
	r.orphans = kept
	r.mu.Unlock()
	for _, m := range early {
		o.reason(m)
	}
}

func (r *router) console(m consoleMessage) {
	m.token = tokenOf(m.Message)
	if m.token == "" {
		return
	}
	r.mu.Lock()
	o := r.byToken[m.token]
	if o == nil {
		r.orphans = append(r.orphans, m)
		if len(r.orphans) > maxOrphans {
			r.orphans = r.orphans[len(r.orphans)-maxOrphans:]
		}
	}
	r.mu.Unlock()
	if o != nil {
		o.reason(m)
	}
}

func (r *router) addContext(id string, o *observer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.byContext[id] = o
}

// removeObserver drops o's browsing context and every token it owns (its tab closed).
func (r *router) removeObserver(o *observer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for tok, owner := range r.byToken {
		if owner == o {
			delete(r.byToken, tok)
		}
	}
	for id, owner := range r.byContext {
		if owner == o {
			delete(r.byContext, id)
		}
	}
}

// forget drops the token's owner and its orphaned reasons.
func (r *router) forget(tok string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.byToken, tok)
	kept := r.orphans[:0]
	for _, m := range r.orphans {
		if m.token != tok {
			kept = append(kept, m)
		}
	}
	r.orphans = kept
}

func (r *router) addIntercept(id string, h func(networkEvent)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.intercepts[id] = h
}

func (r *router) removeIntercept(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.intercepts, id)
}

package servers

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// maxStall bounds a stalled answer even when nobody closes the server.
const maxStall = 2 * time.Minute

// api answers /cors/<token>/... by the Policy encoded in the query string.
type api struct {
	stop <-chan struct{} // closed when the servers close, to release stalled answers
	own  func() []string // corslab's origins, the only redirect targets

	mu   sync.Mutex
	seen map[string]int // requests so far per token, for the tokens whose policy has a Later answer
}

// nth counts a request to token and returns its 1-based number.
func (a *api) nth(token string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.seen == nil {
		a.seen = map[string]int{}
	}
	a.seen[token]++
	return a.seen[token]
}

func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, "/cors/") || TokenOf(r) == "" {
		http.Error(w, "corslab api: requests go to /cors/<token>/...", http.StatusNotFound)
		return
	}
	p, err := ParsePolicy(r.URL.Query())
	if err != nil {
		// Readable from any page, so a lab user sees why.
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Cache-Control", "no-store")
		http.Error(w, "corslab api: bad policy: "+err.Error(), http.StatusBadRequest)
		return
	}
	if p.Later != nil {
		from := p.LaterFrom
		if from == 0 {
			from = 2
		}
		if a.nth(TokenOf(r)) >= from {
			p = *p.Later
		}
	}
	preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
	if preflight && p.Preflight != nil {
		p = *p.Preflight
	}
	status, headers := p.answer(preflight, r.Header.Get("Origin"), TokenOf(r))
	h := w.Header()
	for k, v := range headers {
		h[k] = v
	}
	if p.Redirect != nil {
		// The CORS headers above go on the redirect too: Chrome checks each hop.
		loc, err := p.Redirect.location(TokenOf(r), strings.TrimPrefix(r.URL.Path, "/cors/"+TokenOf(r)), a.own())
		if err != nil {
			http.Error(w, "corslab api: "+err.Error(), http.StatusBadRequest)
			return
		}
		h.Set("Location", loc)
		w.WriteHeader(p.Redirect.Status)
		return
	}
	body := p.Body
	if body == "" && !p.NoBody {
		body = DefaultBody
	}
	if preflight || r.Method == http.MethodHead || status == http.StatusNoContent || status == http.StatusNotModified {
		body = ""
	}
	if len(p.RawHeaders) > 0 && p.Stall == "" {
		writeRaw(w, status, h, p.RawHeaders, body)
		return
	}
	if a.stall(w, r, p.Stall, status) {
		return
	}
	w.WriteHeader(status)
	if body != "" {
		_, _ = w.Write([]byte(body))
	}
}

// writeRaw writes the whole response on the hijacked connection: Go's
// server would trim or refuse the raw headers' values. The journal is told
// the status and headers first, as the server's own account.
func writeRaw(w http.ResponseWriter, status int, h http.Header, raw []Header, body string) {
	all := h.Clone()
	for _, x := range raw {
		all.Add(x.Name, x.Value)
	}
	if sw, ok := w.(*statusWriter); ok {
		sw.answered(status, all)
	}
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, "corslab api: raw headers need a connection of its own: "+err.Error(), http.StatusInternalServerError)
		return
	}
	defer conn.Close()
	text := http.StatusText(status)
	if text == "" {
		text = "Status"
	}
	fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\n", status, text)
	_ = h.Write(buf)
	for _, x := range raw {
		buf.WriteString(x.Name + ": " + x.Value + "\r\n")
	}
	fmt.Fprintf(buf, "Content-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
	_ = buf.Flush()
}

// Answer returns the status and headers the API origin sends for p: to a
// preflight when preflight is set (p.Preflight answers it when present), to the
// actual request otherwise. origin is the request's Origin header (for Echo)
// and token the request's token (it scopes cookies without a Path).
func (p Policy) Answer(preflight bool, origin, token string) (int, http.Header) {
	if preflight && p.Preflight != nil {
		p = *p.Preflight
	}
	return p.answer(preflight, origin, token)
}

func (p Policy) answer(preflight bool, origin, token string) (int, http.Header) {
	h := http.Header{}
	for _, v := range p.AllowOrigin {
		if v == Echo {
			if v = origin; v == "" {
				continue
			}
		}
		h.Add("Access-Control-Allow-Origin", v)
	}
	if p.AllowCredentials != "" {
		h.Set("Access-Control-Allow-Credentials", p.AllowCredentials)
	}
	for _, x := range p.Headers {
		h.Add(x.Name, x.Value)
	}
	if h.Get("Cache-Control") == "" {
		// Same-site origins share Chrome's HTTP cache: never let one answer serve another.
		h.Set("Cache-Control", "no-store")
	}
	if preflight {
		for _, v := range p.AllowMethods {
			h.Add("Access-Control-Allow-Methods", v)
		}
		for _, v := range p.AllowHeaders {
			h.Add("Access-Control-Allow-Headers", v)
		}
		if p.MaxAge != "" {
			h.Set("Access-Control-Max-Age", p.MaxAge)
		}
		if p.PreflightStatus == 0 {
			return http.StatusNoContent, h
		}
		return p.PreflightStatus, h
	}
	for _, v := range p.ExposeHeaders {
		h.Add("Access-Control-Expose-Headers", v)
	}
	for _, c := range p.SetCookie {
		if !hasAttr(c, "path") {
			c += "; Path=/cors/" + token
		}
		h.Add("Set-Cookie", c)
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "text/plain; charset=utf-8")
	}
	if p.Status == 0 {
		return http.StatusOK, h
	}
	return p.Status, h
}

// stall holds the answer as the policy asks, until the client leaves or the
// servers close; it reports whether it did (the answer is then over).
func (a *api) stall(w http.ResponseWriter, r *http.Request, mode string, status int) bool {
	switch mode {
	case StallHeaders:
		// Chrome sniffs a text/plain body before it hands the headers to the
		// page; nosniff lets the headers through while the body stalls.
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(status)
		_, _ = w.Write([]byte("corslab: partial "))
		_ = http.NewResponseController(w).Flush()
	case StallResponse:
	case StallClose:
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			_ = conn.Close()
		}
		return true
	default:
		return false
	}
	t := time.NewTimer(maxStall)
	defer t.Stop()
	select {
	case <-r.Context().Done():
	case <-a.stop:
	case <-t.C:
	}
	return true
}

func hasAttr(cookie, name string) bool {
	parts := strings.Split(cookie, ";")
	for _, p := range parts[1:] {
		k, _, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

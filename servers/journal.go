package servers

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Entry is one request as the API origin received it.
type Entry struct {
	Time    time.Time
	Method  string
	URL     string // path and query, as sent
	Host    string
	Header  http.Header
	Cookies []*http.Cookie
	// Status is what the server answered, set when the headers go out; 0
	// before that, -1 when there was no answer (the client went away, or the
	// server closed the connection).
	Status int
	// Response is the header the server answered with (set with Status): the
	// server's own account of what it sent, for browsers that report none of
	// a response they blocked.
	Response http.Header
	// AppRan is true when the request reached the application (a handler
	// wrapped with App; corslab's own API is one): not only a middleware.
	AppRan bool
}

// Origin returns the request's Origin header, or "" when it had none.
func (e Entry) Origin() string { return e.Header.Get("Origin") }

// IsPreflight reports whether the entry is a CORS preflight: OPTIONS with Access-Control-Request-Method.
func (e Entry) IsPreflight() bool {
	return e.Method == http.MethodOptions && e.Header.Get("Access-Control-Request-Method") != ""
}

// Journal records every request the API origin received, per token, in arrival order.
// It is safe for concurrent use; the zero value is ready to use.
type Journal struct {
	mu      sync.Mutex
	entries map[string][]*Entry
	changed chan struct{} // closed and replaced on every change
	marked  bool          // every application is wrapped with App
}

// Entries returns a copy of the requests recorded for token, oldest first.
// Their headers are shared with the journal: read them, do not change them.
func (j *Journal) Entries(token string) []Entry {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]Entry, 0, len(j.entries[token]))
	for _, e := range j.entries[token] {
		out = append(out, *e)
	}
	return out
}

// Wait blocks until done returns true for token's entries or ctx ends; it returns the entries it saw last.
func (j *Journal) Wait(ctx context.Context, token string, done func([]Entry) bool) ([]Entry, error) {
	for {
		j.mu.Lock()
		ch := j.changedLocked()
		j.mu.Unlock()
		entries := j.Entries(token)
		if done(entries) {
			return entries, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return entries, ctx.Err()
		}
	}
}

// Forget drops token's entries; the harness calls it when a request's
// Result holds them, so a long run's journal does not grow.
func (j *Journal) Forget(token string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	delete(j.entries, token)
}

// Len is the number of tokens the journal holds entries for.
func (j *Journal) Len() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.entries)
}

func (j *Journal) changedLocked() chan struct{} {
	if j.changed == nil {
		j.changed = make(chan struct{})
	}
	return j.changed
}

func (j *Journal) notifyLocked() {
	if j.changed != nil {
		close(j.changed)
		j.changed = nil
	}
}

// record stores r under token and returns its entry and a func that sets its status and response header.
func (j *Journal) record(token string, r *http.Request) (*Entry, func(status int, h http.Header)) {
	e := &Entry{
		Time:    time.Now(),
		Method:  r.Method,
		URL:     r.URL.RequestURI(),
		Host:    r.Host,
		Header:  r.Header.Clone(),
		Cookies: r.Cookies(),
	}
	j.mu.Lock()
	if j.entries == nil {
		j.entries = map[string][]*Entry{}
	}
	j.entries[token] = append(j.entries[token], e)
	j.notifyLocked()
	j.mu.Unlock()
	return e, func(status int, h http.Header) {
		j.mu.Lock()
		e.Status, e.Response = status, h
		j.notifyLocked()
		j.mu.Unlock()
	}
}

// TokenParam is the query parameter that carries the token to a handler whose
// paths corslab does not own (a user's own handler or URL).
const TokenParam = "corslab-token"

// TokenOf returns the token of a request: the segment after /cors/ in its
// path, or else its corslab-token query parameter.
func TokenOf(r *http.Request) string {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/cors/"); ok {
		tok, _, _ := strings.Cut(rest, "/")
		return tok
	}
	return r.URL.Query().Get(TokenParam)
}

// Record wraps h so that every request it receives is recorded in j under its token.
func (j *Journal) Record(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e, set := j.record(TokenOf(r), r)
		r = r.WithContext(context.WithValue(r.Context(), appKey{}, &appMark{j: j, e: e}))
		sw := &statusWriter{ResponseWriter: w, onStatus: set}
		defer func() {
			if sw.status == 0 { // the handler wrote nothing
				if sw.hijacked || r.Context().Err() != nil {
					set(-1, nil)
				} else {
					sw.WriteHeader(http.StatusOK)
				}
			}
		}()
		h.ServeHTTP(sw, r)
	})
}

// statusWriter reports the status to the journal when the headers go out.
type statusWriter struct {
	http.ResponseWriter
	status   int
	hijacked bool
	onStatus func(int, http.Header)
}

// Hijack hands the connection to the handler; nothing more is written through w.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.hijacked = true
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// answered records the status and header the answer goes out with (once).
func (w *statusWriter) answered(code int, h http.Header) {
	if w.status == 0 && code >= 200 {
		w.status = code
		w.onStatus(code, h)
	}
}

func (w *statusWriter) WriteHeader(code int) {
	w.answered(code, w.Header().Clone())
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.answered(http.StatusOK, w.Header().Clone())
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	w.answered(http.StatusOK, w.Header().Clone())
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// App marks h as the application: every request that reaches it is
// recorded as having run the application (Entry.AppRan), so a Result can
// tell a middleware or router that answered (403, 405, a preflight) from
// your application that ran. Wrap the innermost handlers, inside your CORS
// middleware (cors.Handler(servers.App(users))), and set Options.AppMarked
// once every application handler is wrapped.
func App(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if m, ok := r.Context().Value(appKey{}).(*appMark); ok {
			m.ran()
		}
		h.ServeHTTP(w, r)
	})
}

// appKey carries a request's appMark in its context.
type appKey struct{}

// appMark is how App reaches the journal entry of its request.
type appMark struct {
	j *Journal
	e *Entry
}

func (m *appMark) ran() {
	m.j.mu.Lock()
	m.e.AppRan = true
	m.j.notifyLocked()
	m.j.mu.Unlock()
}

// Marked reports whether every application behind this journal is wrapped
// with App (Options.AppMarked, or corslab's own API): an entry with AppRan
// false is then one whose application did not run.
func (j *Journal) Marked() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.marked
}

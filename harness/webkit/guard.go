package webkit

import (
	"fmt"
	"net"
	"net/http"
	"sync"
)

// guard is MiniBrowser's proxy: every host that is not loopback (or one of
// the origins' names) goes to it, and it refuses everything by closing the
// connection, so no page of a corslab run sends traffic off this machine. Loopback and the names bypass
// it (--ignore-host), so the requests under test go direct.
type guard struct {
	srv *http.Server
	l   net.Listener
	wg  sync.WaitGroup

	mu      sync.Mutex
	refused []string // what the guard refused, for tests
}

func startGuard() (*guard, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("webkit: start the egress guard: %w", err)
	}
	g := &guard{l: l}
	g.srv = &http.Server{Handler: http.HandlerFunc(g.refuse)}
	g.wg.Go(func() { _ = g.srv.Serve(l) }) // ends with ErrServerClosed on close
	return g, nil
}

func (g *guard) refuse(w http.ResponseWriter, r *http.Request) {
	target := r.Host
	if r.Method != http.MethodConnect && r.URL.IsAbs() {
		target = r.URL.String()
	}
	g.mu.Lock()
	if len(g.refused) < 1000 {
		g.refused = append(g.refused, r.Method+" "+target)
	}
	g.mu.Unlock()
	// No HTTP answer: WebKit would take a proxy's answer (even to CONNECT)
	// for the server's and judge its CORS headers. A closed connection is a
	// network error, which is what it is.
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// Refused returns the requests the guard refused, oldest first.
func (g *guard) Refused() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.refused...)
}

func (g *guard) url() string { return "http://" + g.l.Addr().String() }

func (g *guard) close() {
	_ = g.srv.Close()
	g.wg.Wait()
}

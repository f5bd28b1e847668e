// Package servers runs the loopback origins corslab tests against: the page
// origin (APP), the API origin that answers by a URL-encoded Policy, and a
// third origin for redirects. Every request the API origins receive is
// recorded in a Journal, keyed by the request's token.
package servers

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/corslab/corslab/pages"
)

// Options choose how the origins are named and served; the zero value is the
// default pair on 127.0.0.1 over plain HTTP.
type Options struct {
	// Names serves the origins as app.test, api.test and other.test (a
	// cross-site pair). The browser must map *.test to the bind address.
	Names bool
	// TLS serves HTTPS with a self-signed certificate; Origins.SPKI names it
	// for Chrome's --ignore-certificate-errors-spki-list.
	TLS bool
	// APITLS serves only the API and the third origin over HTTPS, and the
	// page origin over plain HTTP: an HTTPS API called from an HTTP page.
	APITLS bool
	// API replaces the built-in API handler with a user's own handler. Its
	// requests are still recorded in the journal. Wrap the application
	// inside your middleware with App, so Results can tell "your
	// middleware answered" from "your application ran".
	API http.Handler
	// AppMarked says every application handler of API (or APIFor) is wrapped
	// with App: a request that reaches none of them did not run your
	// application (a middleware or router answered it). Without it corslab
	// cannot tell an answer from a run, and says so.
	AppMarked bool
	// APIFor builds the API handler from the started origins, for a CORS
	// configuration that names the page origin (which exists only once the
	// origins run). It is called once, before any request; set API or APIFor.
	APIFor func(*Origins) http.Handler
	// Page replaces the page origin's handler (pages.Handler); wrap
	// pages.Handler to add routes, as the teaching lab does.
	Page http.Handler
	// Bind is the address to listen on; "" means 127.0.0.1. A non-loopback
	// address is refused unless AllowNonLoopback is set.
	Bind string
	// AllowNonLoopback lets Bind be an address other machines can reach.
	AllowNonLoopback bool
	// AppPort, APIPort and OtherPort fix the origins' ports (e.g. for an
	// allow-list that names a port); 0 means any free port.
	AppPort, APIPort, OtherPort int
}

// Origins are the running servers. The caller must call Close when finished.
type Origins struct {
	App     *Server  // the page origin: serves the pages that send the requests
	API     *Server  // the API origin: answers by the Policy in the URL
	Other   *Server  // a third origin, the same API, for redirects across origins
	Journal *Journal // every request API and Other received, per token
	// SPKI is the base64 SHA-256 of the certificate's public key when TLS is on.
	SPKI string
	// HostRule maps the origins' names to the bind address, for Chrome's
	// --host-resolver-rules; "" when the origins use the address itself.
	HostRule string

	cert []byte // the certificate's DER when TLS is on

	stop chan struct{}
	mu   sync.Mutex // guards the origins' URLs, read by the API handler
}

// Certificate returns the origins' self-signed certificate (DER) when TLS is on, else nil.
func (o *Origins) Certificate() []byte { return o.cert }

// Server is one running origin.
type Server struct {
	// URL is the origin as a browser serializes it: scheme, host and port,
	// no trailing slash (e.g. "http://127.0.0.1:41234").
	URL string
	// Addr is the listening address (e.g. "127.0.0.1:41234").
	Addr string
	srv  *httptest.Server
}

// Start starts the three origins; on error nothing is left running.
func Start(opts Options) (*Origins, error) {
	bind := opts.Bind
	if bind == "" {
		bind = "127.0.0.1"
	}
	ip, err := netip.ParseAddr(bind)
	if err != nil {
		return nil, fmt.Errorf("servers: bind address %q is not an IP address: %w", bind, err)
	}
	if !ip.IsLoopback() && !opts.AllowNonLoopback {
		return nil, fmt.Errorf("servers: bind address %s is not loopback; corslab only serves 127.0.0.0/8 or ::1 unless Options.AllowNonLoopback is set", bind)
	}
	// corslab's own API marks itself; a user's is marked when they say so.
	o := &Origins{Journal: &Journal{marked: opts.AppMarked || opts.API == nil && opts.APIFor == nil}, stop: make(chan struct{})}
	var cert *tls.Certificate
	if opts.TLS || opts.APITLS {
		c, spki, err := newCertificate(ip)
		if err != nil {
			return nil, fmt.Errorf("servers: make certificate: %w", err)
		}
		cert, o.SPKI, o.cert = &c, spki, c.Certificate[0]
	}
	if opts.API != nil && opts.APIFor != nil {
		return nil, errors.New("servers: set Options.API or Options.APIFor, not both")
	}
	// The handler APIFor builds exists only once the origins run: the
	// servers start with this one and it is set before Start returns.
	var late lateHandler
	handler := opts.API
	switch {
	case opts.APIFor != nil:
		handler = &late
	case handler == nil:
		handler = App(&api{stop: o.stop, own: o.urls})
	}
	recorded := o.Journal.Record(handler)
	names := [3]string{"", "", ""}
	if opts.Names {
		names = [3]string{"app.test", "api.test", "other.test"}
		o.HostRule = "MAP *.test " + bind
	}
	page := opts.Page
	if page == nil {
		page = pages.Handler()
	}
	// The page origin answers /cors/ too, for same-origin contrast and for
	// redirects that start on the page's own origin.
	app := http.NewServeMux()
	app.Handle("/cors/", recorded)
	app.Handle("/", page)
	handlers := [3]http.Handler{app, recorded, recorded}
	servers := [3]**Server{&o.App, &o.API, &o.Other}
	ports := [3]int{opts.AppPort, opts.APIPort, opts.OtherPort}
	labels := [3]string{"page origin (AppPort)", "API origin (APIPort)", "other origin (OtherPort)"}
	for i, h := range handlers {
		if ports[i] < 0 || ports[i] > 65535 {
			o.Close()
			return nil, fmt.Errorf("servers: %s: port %d is not 0-65535", labels[i], ports[i])
		}
		c := cert
		if i == 0 && !opts.TLS { // the page origin stays plain HTTP with APITLS
			c = nil
		}
		s, err := start(ip, ports[i], names[i], h, c)
		if err != nil {
			o.Close()
			return nil, fmt.Errorf("servers: start the %s: %w", labels[i], err)
		}
		o.mu.Lock()
		*servers[i] = s
		o.mu.Unlock()
	}
	if opts.APIFor != nil {
		h := opts.APIFor(o)
		if h == nil {
			o.Close()
			return nil, errors.New("servers: Options.APIFor returned a nil handler")
		}
		late.h.Store(&h)
	}
	return o, nil
}

func start(ip netip.Addr, port int, name string, h http.Handler, cert *tls.Certificate) (*Server, error) {
	l, err := net.Listen("tcp", netip.AddrPortFrom(ip, uint16(port)).String())
	if err != nil {
		return nil, err
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = l
	scheme := "http"
	if cert != nil {
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{*cert}}
		srv.StartTLS()
		scheme = "https"
	} else {
		srv.Start()
	}
	addr := l.Addr().(*net.TCPAddr)
	host := name
	if host == "" {
		host = ip.String()
		if ip.Is6() {
			host = "[" + host + "]"
		}
	}
	return &Server{
		URL:  scheme + "://" + host + ":" + strconv.Itoa(addr.Port),
		Addr: l.Addr().String(),
		srv:  srv,
	}, nil
}

// Names returns the origins' host names when they are served by name (Options.Names), else nil.
func (o *Origins) Names() []string {
	if o.HostRule == "" {
		return nil
	}
	var out []string
	for _, s := range []*Server{o.App, o.API, o.Other} {
		if u, err := url.Parse(s.URL); err == nil {
			out = append(out, u.Hostname())
		}
	}
	return out
}

// lateHandler serves with a handler set after the servers started.
type lateHandler struct{ h atomic.Pointer[http.Handler] }

func (l *lateHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := l.h.Load()
	if h == nil {
		http.Error(w, "corslab: the API handler is not built yet", http.StatusServiceUnavailable)
		return
	}
	(*h).ServeHTTP(w, r)
}

// urls returns the origins' URLs that are running.
func (o *Origins) urls() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for _, s := range []*Server{o.App, o.API, o.Other} {
		if s != nil {
			out = append(out, s.URL)
		}
	}
	return out
}

// Close stops every origin and releases stalled answers; it waits for running handlers.
func (o *Origins) Close() {
	if o == nil || o.stop == nil {
		return
	}
	select {
	case <-o.stop:
		return
	default:
		close(o.stop)
	}
	for _, s := range []*Server{o.App, o.API, o.Other} {
		if s != nil {
			s.srv.CloseClientConnections()
			s.srv.Close()
		}
	}
}

// Package harness is corslab's vocabulary and its user-facing API: a Request
// (with the servers.Policy it is answered by), a Scenario of sends and their
// expectations, a Result that holds one request seen three ways (what the
// page's JavaScript saw, what the browser did, what the server received),
// and Env and Session, which run them in real browsers through the engine
// seam (engine.go). The browsers live in the engine packages
// (harness/chromium, harness/firefox, harness/webkit); nothing here speaks a
// browser protocol.
package harness

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/corslab/corslab/harness/verdict"
	"github.com/corslab/corslab/servers"
)

// RemoteEnv is the environment variable that holds the DevTools URLs of
// running Chromiums to attach to instead of launching one: one URL, or
// several separated by commas or spaces, across which the work is spread.
const RemoteEnv = "CORSLAB_CHROME_URL"

// EnginesEnv is the environment variable that chooses the engines of an Env
// whose Options.Engines is empty: a comma-separated list, or "all".
const EnginesEnv = "CORSLAB_ENGINES"

// Options configure an Env; the zero value launches Chromium (or the engines
// $CORSLAB_ENGINES names) against the default origin pair on 127.0.0.1.
type Options struct {
	// Servers choose the origins: names (app.test/api.test), TLS, a user's API handler.
	Servers servers.Options
	// Engines are the browsers to run, the first one the default for Do and
	// NewSession; empty means $CORSLAB_ENGINES, then Chromium alone.
	Engines []verdict.Engine
	// Paths are the browser binaries per engine; a missing one is found by
	// the engine ($CORSLAB_CHROME, $CORSLAB_FIREFOX, $CORSLAB_WEBKIT, then PATH).
	Paths map[verdict.Engine]string
	// RemoteURL attaches to a running Chromium at this DevTools URL
	// (ws://host:port/devtools/browser/… or http://host:port) instead of
	// launching one; "" means $CORSLAB_CHROME_URL, then launch. Several
	// URLs, separated by commas or spaces, attach to several browsers, and
	// Do, Play and NewSession spread their work across them in turn. A remote
	// Chromium must reach the origins, and corslab cannot set its flags: for
	// *.test names or HTTPS origins start it with the matching flags.
	RemoteURL string
	// ChromeFlags are extra Chromium command-line flags, e.g.
	// {"ip-address-space-overrides": "..."}. A value of type OriginsFlag is
	// computed from the running origins (their ports are only known then).
	// Flags that switch off web security are refused.
	ChromeFlags map[string]any
	// ThirdPartyCookies launches the browsers with third-party cookies allowed.
	ThirdPartyCookies bool
	// AllowRemoteTargets lets a Request.URL name a host that is not on this machine.
	AllowRemoteTargets bool
	// APIURL is the base URL of an API that already runs (e.g.
	// "http://localhost:8080"): a Request.URL that starts with "/" goes there
	// instead of the API origin. Its requests are not in corslab's journal.
	APIURL string
	// RequestTimeout bounds one Do when its context has no deadline; 0 means 20 s.
	RequestTimeout time.Duration
	// ShareBrowser lets Envs of this process with the same launch settings
	// share one browser per engine (each session is its own browser context,
	// so nothing else is shared); the last Close closes it. suite.Start sets it.
	ShareBrowser bool
	// WarmSessions is how many fresh sessions per engine are kept ready for
	// NewSession, refilled in the background from the first NewSession on
	// (an Env used only through Do makes none); 0 means 2, a negative value none.
	WarmSessions int
}

// OriginsFlag is a Chromium flag value computed from the running origins, e.g.
// --ip-address-space-overrides, which names the page origin's port.
type OriginsFlag func(*servers.Origins) string

// Env is a set of running browsers (one per engine) plus the origins they
// test. The caller must call Close when finished.
type Env struct {
	Origins *servers.Origins
	*state
	// engine is the engine Do, NewSession and Play use (In returns an Env with another).
	engine verdict.Engine
}

// state is what every view of one Env (In) shares.
type state struct {
	opts    Options
	order   []verdict.Engine
	lanes   map[verdict.Engine][]*lane // one per browser: several for several attached Chromiums
	turn    atomic.Uint64              // spreads work across an engine's browsers
	mu      sync.Mutex
	closed  bool
	origins *servers.Origins
}

// Start starts the origins and launches (or attaches to) a browser of every
// chosen engine, at once; on error nothing is left running. ctx bounds the
// start only, not the life of the Env.
func Start(ctx context.Context, opts Options) (*Env, error) {
	order, err := chooseEngines(opts.Engines)
	if err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	if err := checkAPIURL(opts.APIURL, opts.AllowRemoteTargets); err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	kinds := make(map[verdict.Engine]Engine, len(order))
	for _, name := range order {
		if kinds[name], err = engineNamed(name); err != nil {
			return nil, fmt.Errorf("harness: %w", err)
		}
	}
	remote, err := remoteURLs(opts.RemoteURL)
	if err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	origins, err := servers.Start(opts.Servers)
	if err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	st := &state{opts: opts, order: order, lanes: map[verdict.Engine][]*lane{}, origins: origins}
	e := &Env{Origins: origins, state: st, engine: order[0]}
	cert := origins.Certificate()
	for _, name := range order {
		cfg := LaunchConfig{
			Path: opts.Paths[name], Addr: bindAddr(opts.Servers), SPKI: origins.SPKI, Certificate: cert,
			ThirdPartyCookies: opts.ThirdPartyCookies,
		}
		if opts.Servers.Names {
			cfg.Names = origins.Names()
		}
		replicas := []string{""}
		if name == verdict.Chromium {
			if len(remote) > 0 {
				replicas = remote
			}
			// Flags that name the origins (ports) are computed now that they run.
			cfg.Flags = make(map[string]string, len(opts.ChromeFlags))
			for k, v := range opts.ChromeFlags {
				if f, ok := v.(OriginsFlag); ok {
					v = f(origins)
				}
				cfg.Flags[k] = fmt.Sprint(v)
			}
		}
		for _, r := range replicas {
			c := cfg
			c.RemoteURL = r
			st.lanes[name] = append(st.lanes[name], &lane{env: e, kind: kinds[name], cfg: c})
		}
	}
	// Launch every engine at once: Firefox takes seconds to start, and the
	// others need not wait for it.
	var all []*lane
	for _, name := range order {
		all = append(all, st.lanes[name]...)
	}
	errs := make([]error, len(all))
	var wg sync.WaitGroup
	for i, l := range all {
		wg.Go(func() {
			b, err := acquire(ctx, l.kind, l.cfg, opts.ShareBrowser)
			if err != nil {
				errs[i] = fmt.Errorf("start %s: %w", l.kind.Name(), err)
				return
			}
			l.browser = b
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, l := range all {
			if l.browser != nil {
				_ = release(l.browser)
			}
		}
		origins.Close()
		return nil, fmt.Errorf("harness: %w", err)
	}
	n := opts.WarmSessions
	if n == 0 {
		n = 2
	}
	for _, l := range all {
		if n > 0 {
			l.startRefiller(n)
		}
	}
	return e, nil
}

// remoteURLs returns the DevTools URLs to attach to: opt, else
// $CORSLAB_CHROME_URL, split at commas and spaces; none means launch.
func remoteURLs(opt string) ([]string, error) {
	from := "Options.RemoteURL"
	if opt == "" {
		opt, from = os.Getenv(RemoteEnv), "$"+RemoteEnv
	}
	var out []string
	for _, f := range strings.FieldsFunc(opt, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' }) {
		u, err := url.Parse(f)
		if err != nil || u.Host == "" || !slices.Contains([]string{"ws", "wss", "http", "https"}, u.Scheme) {
			return nil, fmt.Errorf("%s: %q is not a DevTools URL (want ws://host:port/devtools/browser/… or http://host:port)", from, f)
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out, nil
}

// ChosenEngines returns the engines an Env started with these explicit
// engines runs: explicit when not empty, else $CORSLAB_ENGINES, else Chromium.
func ChosenEngines(explicit ...verdict.Engine) ([]verdict.Engine, error) {
	return chooseEngines(explicit)
}

// chooseEngines returns the engines of an Env: explicit, else $CORSLAB_ENGINES, else Chromium.
func chooseEngines(explicit []verdict.Engine) ([]verdict.Engine, error) {
	if len(explicit) > 0 {
		var out []verdict.Engine
		for _, e := range explicit {
			if _, err := verdict.ParseEngines(string(e)); err != nil {
				return nil, fmt.Errorf("Options.Engines: %w", err)
			}
			if !slices.Contains(out, e) {
				out = append(out, e)
			}
		}
		return out, nil
	}
	if v := os.Getenv(EnginesEnv); strings.TrimSpace(v) != "" {
		out, err := verdict.ParseEngines(v)
		if err != nil {
			return nil, fmt.Errorf("$%s: %w", EnginesEnv, err)
		}
		return out, nil
	}
	return []verdict.Engine{verdict.Chromium}, nil
}

func bindAddr(o servers.Options) string {
	if o.Bind != "" {
		return o.Bind
	}
	return "127.0.0.1"
}

// Engines are the Env's engines, the default first.
func (e *Env) Engines() []verdict.Engine {
	out := []verdict.Engine{e.engine}
	for _, n := range e.order {
		if n != e.engine {
			out = append(out, n)
		}
	}
	return out
}

// Engine is the engine Do, NewSession and Play use.
func (e *Env) Engine() verdict.Engine { return e.engine }

// In returns the Env with engine as its default: Do, NewSession and Play
// then run there. It shares everything with e; closing either closes both.
// It panics when the Env has no such engine (a programming error: the
// engines are fixed at Start).
func (e *Env) In(engine verdict.Engine) *Env {
	if len(e.lanes[engine]) == 0 {
		panic(fmt.Sprintf("harness: the Env has no %s engine (it has %v)", engine, e.order))
	}
	return &Env{Origins: e.Origins, state: e.state, engine: engine}
}

// lane is the first browser of the Env's engine: the one whose version,
// path and memory the Env reports.
func (e *Env) lane() *lane { return e.lanes[e.engine][0] }

// work is the browser of the Env's engine the next piece of work goes to:
// the only one, or the next of several attached browsers in turn.
func (e *Env) work() *lane {
	ls := e.lanes[e.engine]
	if len(ls) == 1 {
		return ls[0]
	}
	return ls[(e.turn.Add(1)-1)%uint64(len(ls))]
}

// Version is what the browser of the Env's engine reports for its version.
func (e *Env) Version() string { return e.lane().current().Version() }

// BrowserPath is the binary the Env's engine launched, or the URL it attached to.
func (e *Env) BrowserPath() string { return e.lane().current().Path() }

// Memory returns the memory of the Env's engine's browser in bytes (summed
// PSS of its processes, shared pages counted once), and the peak seen by
// earlier calls; 0 for an attached browser.
func (e *Env) Memory() (now, peak int64) {
	l := e.lane()
	now = l.current().Memory()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.peak = max(l.peak, now)
	return now, l.peak
}

// Deaths counts the browsers of the Env's engine that died under it and were replaced.
func (e *Env) Deaths() int {
	l := e.lane()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.deaths
}

// Browser is the running browser of the Env's engine, for engine-specific
// operations (chromium.Browse takes it); it is replaced when it dies.
func (e *Env) Browser() Browser { return e.lane().current() }

// Bases are the origins the Env's requests are built on.
func (e *Env) Bases() Bases {
	api := e.Origins.API.URL
	if e.opts.APIURL != "" {
		api = strings.TrimSuffix(e.opts.APIURL, "/")
	}
	return Bases{API: api, Other: e.Origins.Other.URL, App: e.Origins.App.URL}
}

// records reports whether url's server is one of corslab's origins, whose journal has its requests.
func (e *Env) records(url string) bool {
	o := e.Origins
	return sameOrigin(url, o.API.URL) || sameOrigin(url, o.Other.URL) || sameOrigin(url, o.App.URL)
}

// Do sends req from a warm tab of the Env's engine on the page origin (one
// of a pool, so concurrent calls run at once). Requests are kept apart by
// their tokens: each has its own URL (so its own preflight-cache entry) and
// its cookies are scoped to its token's path. Use NewSession for a clean
// browser state (cookies, whole preflight cache).
func (e *Env) Do(ctx context.Context, req Request) (Result, error) {
	s, done, err := e.work().borrow(ctx, "")
	if err != nil {
		return Result{}, err
	}
	defer done()
	return s.Do(ctx, req)
}

// DoAll sends req in every engine of the Env at once (each from its shared
// session, each with its own token) and returns one Result per engine, in
// the order of Engines.
func (e *Env) DoAll(ctx context.Context, req Request) (Results, error) {
	engines := e.Engines()
	out := make(Results, len(engines))
	errs := make([]error, len(engines))
	var wg sync.WaitGroup
	for i, name := range engines {
		wg.Go(func() { out[i], errs[i] = e.In(name).Do(ctx, req) })
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// NewSession returns a fresh browser context (its own cookies and preflight
// cache) of the Env's engine with a tab on the page origin, ready to send
// requests. It takes one from the warm pool when one is ready, so the cost of
// making one is usually paid in the background; the first call fills the
// pool. The caller must Close it.
func (e *Env) NewSession(ctx context.Context) (*Session, error) {
	return e.work().newSession(ctx)
}

// Close closes every browser (gracefully, then by force) and the origins, and
// removes the browsers' temp folders.
func (e *Env) Close() error {
	st := e.state
	st.mu.Lock()
	if st.closed {
		st.mu.Unlock()
		return nil
	}
	st.closed = true
	st.mu.Unlock()
	// The lanes close at once: each engine's close waits on its own browser
	// (Firefox's graceful exit can take seconds on a busy machine).
	var lanes []*lane
	for _, name := range st.order {
		lanes = append(lanes, st.lanes[name]...)
	}
	errs := make([]error, len(lanes))
	var wg sync.WaitGroup
	for i, l := range lanes {
		wg.Go(func() { errs[i] = l.close() })
	}
	wg.Wait()
	st.origins.Close()
	return errors.Join(errs...)
}

func (e *Env) isClosed() bool {
	e.state.mu.Lock()
	defer e.state.mu.Unlock()
	return e.state.closed
}

// lane is one engine's browser as the Env uses it: the running browser
// (replaced when it dies), the shared session Do uses, and the warm pool.
type lane struct {
	env  *Env
	kind Engine
	cfg  LaunchConfig

	mu      sync.Mutex
	browser Browser
	deaths  int
	peak    int64
	tabs    tabPool // warm tabs per page origin (pool.go)

	warm     chan *Session // fresh sessions, ready
	refill   chan struct{} // a token asks the refiller for one more
	primed   sync.Once     // the first NewSession fills the pool
	stop     context.CancelFunc
	refiller sync.WaitGroup
}

func (l *lane) current() Browser {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.browser
}

// live returns the running browser, launching a new one when the last one died.
func (l *lane) live(ctx context.Context) (Browser, error) {
	if l.env.isClosed() {
		return nil, errors.New("harness: the Env is closed")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if alive(l.browser) {
		return l.browser, nil
	}
	old := l.browser
	_ = release(old) // the last Env to let go removes what the dead one left
	b, err := acquire(ctx, l.kind, l.cfg, l.env.opts.ShareBrowser)
	if err != nil {
		return nil, fmt.Errorf("harness: replace the %s browser that died: %w", l.kind.Name(), err)
	}
	l.browser = b
	l.deaths++
	return b, nil
}

func alive(b Browser) bool {
	select {
	case <-b.Done():
		return false
	default:
		return true
	}
}

func (l *lane) newSession(ctx context.Context) (*Session, error) {
	if _, err := l.live(ctx); err != nil {
		return nil, err
	}
	if l.warm != nil {
		l.primed.Do(func() {
			for range cap(l.warm) {
				l.askRefill()
			}
		})
		for {
			select {
			case s := <-l.warm:
				l.askRefill()
				if s.alive() {
					return s, nil
				}
				s.Close()
				continue
			default:
			}
			break
		}
	}
	return l.openSession(ctx, Page{URL: l.env.Origins.App.URL + "/"}, l.env.Origins.App.URL)
}

func (l *lane) askRefill() {
	select {
	case l.refill <- struct{}{}:
	default:
	}
}

// startRefiller keeps n fresh sessions ready once the first NewSession asks
// (primed); close stops it.
func (l *lane) startRefiller(n int) {
	ctx, stop := context.WithCancel(context.Background())
	l.stop = stop
	l.warm = make(chan *Session, n)
	l.refill = make(chan struct{}, n)
	l.refiller.Add(1)
	go func() {
		defer l.refiller.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case <-l.refill:
			}
			octx, cancel := context.WithTimeout(ctx, 30*time.Second)
			s, err := l.openSession(octx, Page{URL: l.env.Origins.App.URL + "/"}, l.env.Origins.App.URL)
			cancel()
			if err != nil {
				continue // the next NewSession reports the error
			}
			select {
			case l.warm <- s:
			case <-ctx.Done():
				s.Close()
				return
			}
		}
	}()
}

func (l *lane) close() error {
	tabErr := l.closeTabs()
	if l.stop != nil {
		l.stop()
		l.refiller.Wait()
		for len(l.warm) > 0 {
			(<-l.warm).Close()
		}
	}
	l.mu.Lock()
	b := l.browser
	l.mu.Unlock()
	if b == nil {
		return tabErr
	}
	return errors.Join(tabErr, release(b))
}

// Results are one request's Results in several engines.
type Results []Result

// In returns the Result of engine e, and false when there is none.
func (rs Results) In(e verdict.Engine) (Result, bool) {
	for _, r := range rs {
		if r.Engine == e {
			return r, true
		}
	}
	return Result{}, false
}

// Disagreements lists where the engines' verdicts, preflights and views
// differ: "engines disagree" as data. Empty when they tell one story.
func (rs Results) Disagreements() []string {
	if len(rs) < 2 {
		return nil
	}
	var d []string
	first := rs[0]
	for _, r := range rs[1:] {
		if a, b := first.Verdict(), r.Verdict(); a != b {
			d = append(d, fmt.Sprintf("%s: %s; %s: %s", first.Engine, oneLine(a.String()), r.Engine, oneLine(b.String())))
		}
		if first.Preflighted() != r.Preflighted() {
			d = append(d, fmt.Sprintf("%s %s; %s %s", first.Engine, plural(first.Preflighted(), "preflighted", "sent no preflight"),
				r.Engine, plural(r.Preflighted(), "preflighted", "sent no preflight")))
		}
		if first.Executed() != r.Executed() {
			d = append(d, fmt.Sprintf("the server ran it for %s: %v; for %s: %v", first.Engine, first.Executed(), r.Engine, r.Executed()))
		}
	}
	return d
}

// String is every engine's transcript, then the engines' disagreements.
func (rs Results) String() string {
	var sb strings.Builder
	for _, r := range rs {
		sb.WriteString(r.String())
	}
	for _, d := range rs.Disagreements() {
		sb.WriteString("! engines disagree: " + d + "\n")
	}
	return sb.String()
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

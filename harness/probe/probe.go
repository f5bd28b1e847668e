// Package probe proves a server's CORS holes in real browsers, the way an
// attacker would exploit them: from a trusted origin it derives attacker
// origins per class (reflected, null, prefix, suffix, unescaped dot,
// substring, plain http, subdomains, third-party hosts), runs each as a real
// page on that origin (corslab's impersonation) with the victim's cookies
// when given, and reports a finding only when the browser's own verdict
// proves it: the attacker's page read the answer (with the cookie, for a
// credentialed read). The answer's own faults (*, a malformed
// Access-Control-Allow-Origin, a request run despite the block, a
// reflection without Vary: Origin) are judged on the same requests. The
// findings carry their transcripts; Report writes them as text, JSON,
// SARIF, and as an expectations file that `corslab check` runs.
//
// A probe runs in batches, so a caller can run each batch's jobs with its
// own parallelism and progress (Start, Next, Job.Run, Report); Run does all
// of it.
package probe

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/model"
	"github.com/corslab/corslab/harness/verdict"
	"github.com/corslab/corslab/servers"
)

// Config is what to probe and how.
type Config struct {
	// Trusted is the origin the server's policy trusts, e.g. https://app.example.com.
	Trusted string
	// URL is the target, an absolute http(s) URL whose path is probed when
	// Paths is empty. Leave it empty to probe Handler (or Env's API origin).
	URL string
	// Handler is mounted as the target's API origin instead of a URL: its
	// journal then shows what reached it (AppMarked: its applications are
	// wrapped with servers.App, so the journal knows when they ran).
	Handler   http.Handler
	AppMarked bool
	// Paths are the paths (with any query) probed on the target's origin.
	Paths []string
	// Methods are the methods sent; empty means GET. Name an unsafe method
	// (POST, PUT, DELETE, …) to send it and to look for executed-despite-block.
	Methods []string
	// Cookies are Set-Cookie lines stored as the target's first-party
	// cookies before each credentialed request.
	Cookies []string
	// Classes limits the findings to these classes; empty means every class.
	Classes []Class
	// Engines are the browsers (empty: $CORSLAB_ENGINES, then Chromium);
	// BrowserPaths their binaries, as in harness.Options.
	Engines      []verdict.Engine
	BrowserPaths map[verdict.Engine]string
	// AllowRemote lets URL name a host that is not loopback, localhost or *.test.
	AllowRemote bool
	// Rate is the most requests per second sent to the target; 0 means no limit.
	Rate float64
	// Shard and Shards run the Shard-th of Shards parts of the attacker
	// origins (1-based); 0 means all of them.
	Shard, Shards int
	// Timeout bounds one scenario; 0 means 30 s.
	Timeout time.Duration
	// Env and DefaultEnv are Envs the caller started with EnvOptions (third
	// party cookies allowed, and the engines' default), for the probe to use
	// instead of starting its own; it does not close them.
	Env, DefaultEnv *harness.Env
}

// InputError is a mistake in a Config, naming the field and its value.
type InputError struct {
	Field string // the Config field: Trusted, URL, Paths, Methods, Cookies, Classes, Rate, Shard
	Value string
	Err   error
}

// Error names the field, its value and the mistake.
func (e *InputError) Error() string {
	return fmt.Sprintf("%s %q: %v", e.Field, e.Value, e.Err)
}

// Unwrap returns the mistake.
func (e *InputError) Unwrap() error { return e.Err }

func bad(field, value string, format string, args ...any) error {
	return &InputError{Field: field, Value: value, Err: fmt.Errorf(format, args...)}
}

// forbidden are the methods fetch refuses to send.
var forbidden = []string{"CONNECT", "TRACE", "TRACK"}

// Check reports the first mistake in c, as an *InputError.
func (c Config) Check() error {
	if c.Trusted == "" {
		return bad("Trusted", "", "is required: the origin your policy trusts, e.g. https://app.example.com")
	}
	if _, err := harness.CheckPageOrigin(c.Trusted); err != nil {
		return bad("Trusted", c.Trusted, "not an origin: want scheme://host[:port], e.g. https://app.example.com")
	}
	switch {
	case c.URL != "" && (c.Handler != nil || c.Env != nil):
		return bad("URL", c.URL, "give a URL, or a Handler or Env that serves the target, not both")
	case c.URL == "" && c.Handler == nil && c.Env == nil:
		return bad("URL", "", "is required: the URL to probe, e.g. http://localhost:8080/api/me")
	case c.URL != "":
		u, err := url.Parse(c.URL)
		if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
			return bad("URL", c.URL, "must be an absolute http or https URL, e.g. http://localhost:8080/api/me")
		}
		if u.User != nil || u.Fragment != "" {
			return bad("URL", c.URL, "a target URL has no user and no fragment")
		}
		if err := (harness.Request{URL: c.URL}).Validate(c.AllowRemote); err != nil {
			return bad("URL", c.URL, "host %s is not loopback, localhost or *.test: probe such a host only with AllowRemote (--allow-remote)", u.Hostname())
		}
		if same(c.Trusted, u.Scheme+"://"+u.Host) {
			return bad("Trusted", c.Trusted, "is the target's own origin: its requests would not be cross-origin")
		}
	}
	for _, p := range c.Paths {
		if !strings.HasPrefix(p, "/") || (harness.Request{URL: p}).Validate(true) != nil {
			return bad("Paths", p, `must be a path on the target's origin, e.g. /api/me or /items?page=2 (no host, no fragment)`)
		}
	}
	for _, m := range c.Methods {
		if err := servers.CheckHeaderName(m); err != nil {
			return bad("Methods", m, "not an HTTP method: %v", err)
		}
		if slices.Contains(forbidden, strings.ToUpper(m)) {
			return bad("Methods", m, "browsers refuse to send it (a forbidden method)")
		}
	}
	for _, line := range c.Cookies {
		if strings.ContainsAny(line, "\r\n\x00") {
			return bad("Cookies", line, "a cookie is one Set-Cookie line: no CR, LF or NUL")
		}
		hc, err := http.ParseSetCookie(line)
		if err != nil {
			return bad("Cookies", line, "not a Set-Cookie line (name=value; attributes): %v", err)
		}
		if hc.SameSite == http.SameSiteNoneMode && !hc.Secure {
			// Measured: Firefox refuses to store it and Chromium drops it silently.
			return bad("Cookies", line, "SameSite=None without Secure is refused by browsers: add Secure (browsers accept it on http://localhost and 127.0.0.1)")
		}
	}
	if _, err := ParseClasses(classList(c.Classes)); err != nil {
		return bad("Classes", classList(c.Classes), "%v", err)
	}
	if c.Rate < 0 || math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0) {
		return bad("Rate", fmt.Sprint(c.Rate), "must be a number of requests per second, 0 for no limit")
	}
	if c.Shards < 0 || c.Shards > 0 && (c.Shard < 1 || c.Shard > c.Shards) || c.Shards == 0 && c.Shard != 0 {
		return bad("Shard", fmt.Sprintf("%d/%d", c.Shard, c.Shards), "want i/n with 1 <= i <= n")
	}
	if c.Timeout < 0 {
		return bad("Timeout", c.Timeout.String(), "must not be negative")
	}
	return nil
}

func classList(cs []Class) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = string(c)
	}
	return strings.Join(s, ",")
}

// Remote reports whether c's target needs AllowRemote: a host that is not
// loopback, localhost or *.test.
func (c Config) Remote() bool {
	return c.URL != "" && (harness.Request{URL: c.URL}).Validate(false) != nil
}

// WebKitLeftOut is the note a probe of an http target gives when WebKit
// was chosen with other engines and left out.
const WebKitLeftOut = "WebKit was left out: it blocks an https page's requests to an http target as mixed content (even on loopback), so an attacker's https page proves nothing there; probe the target over https to include WebKit"

// EnvOptions are the harness.Options of the Env a probe of c runs in: the
// target (a URL's origin as APIURL, or the mounted Handler), the engines,
// and third-party cookies allowed (the worst case) or the engines' default.
// A loopback target counts as a public address for Chromium's Local Network
// Access (--ip-address-space-overrides), as the production server it
// stands for would: an attacker's page, on a public origin, then reaches it
// as it would reach production, and a plain-http page (which Chromium
// grants no local-network permission) does too.
func EnvOptions(ctx context.Context, c Config, thirdPartyCookies bool) (harness.Options, error) {
	o := harness.Options{Engines: c.Engines, Paths: c.BrowserPaths, AllowRemoteTargets: c.AllowRemote,
		ThirdPartyCookies: thirdPartyCookies, WarmSessions: -1, ShareBrowser: true}
	engines, err := harness.ChosenEngines(c.Engines...)
	if err != nil {
		return o, bad("Engines", fmt.Sprint(c.Engines), "%v", err)
	}
	switch {
	case c.URL != "":
		u, err := url.Parse(c.URL)
		if err != nil {
			return o, bad("URL", c.URL, "%v", err)
		}
		o.APIURL = u.Scheme + "://" + u.Host
		if u.Scheme == "http" && slices.Contains(engines, verdict.WebKit) && len(engines) > 1 {
			// WebKit blocks an https attacker page's requests to an http
			// target as mixed content: it could prove nothing (WebKitLeftOut).
			o.Engines = slices.DeleteFunc(slices.Clone(engines), func(e verdict.Engine) bool { return e == verdict.WebKit })
		}
		if addrs := loopbackAddrs(ctx, u); len(addrs) > 0 {
			for i, a := range addrs {
				addrs[i] = a + "=public"
			}
			o.ChromeFlags = map[string]any{"ip-address-space-overrides": strings.Join(addrs, ",")}
		}
	case c.Handler != nil:
		// Served over HTTPS when WebKit runs: it blocks an https page's
		// requests to http as mixed content, even on loopback.
		o.Servers = servers.Options{API: c.Handler, AppMarked: c.AppMarked, TLS: slices.Contains(engines, verdict.WebKit)}
		o.ChromeFlags = map[string]any{"ip-address-space-overrides": harness.OriginsFlag(func(or *servers.Origins) string {
			return or.API.Addr + "=public"
		})}
	}
	return o, nil
}

// loopbackAddrs are the loopback ip:port pairs u's host resolves to.
func loopbackAddrs(ctx context.Context, u *url.URL) []string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	host := u.Hostname()
	var ips []net.IP
	switch {
	case net.ParseIP(host) != nil:
		ips = []net.IP{net.ParseIP(host)}
	case host == "localhost" || strings.HasSuffix(host, ".localhost"):
		ips = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	default:
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		as, _ := net.DefaultResolver.LookupIPAddr(rctx, host)
		for _, a := range as {
			ips = append(ips, a.IP)
		}
	}
	var out []string
	for _, ip := range ips {
		if ip.IsLoopback() {
			out = append(out, net.JoinHostPort(ip.String(), port))
		}
	}
	return out
}

// Probe is one probe of a target: the attacker origins, the Envs they run
// in, and every scenario run so far. Start makes one; Close ends it.
type Probe struct {
	cfg       Config
	base      string // the target's origin, scheme://host[:port]
	trusted   string
	attackers []Attacker
	skipped   []Skip
	classes   []Class
	methods   []string
	env, def  *harness.Env
	engines   []verdict.Engine
	ownEnv    bool
	ownDef    bool
	lim       *limiter
	timeout   time.Duration

	victimsMu sync.Mutex
	victims   map[victimKey]*victim // the victim's browser, per engine and cookie setting

	mu        sync.Mutex
	stage     stage
	rounds    int
	paths     []string
	runs      []*run
	notes     []string // said while running (redirects)
	baselines map[string]*baseline
}

type stage int

const (
	stageTrusted stage = iota
	stageAttackers
	stageFollowUps
	stageDone
)

// key is one request of the probe: who sends what.
type key struct {
	origin  string
	class   Class // "" for the trusted origin
	path    string
	method  string
	cred    bool
	trusted bool
}

// run is one key's scenario in one engine, with third-party cookies allowed (the worst case) or not.
type run struct {
	key
	engine     verdict.Engine
	thirdParty bool
	owned      bool // this shard reports it
	sc         harness.Scenario
	results    []harness.Result
	err        error
}

// baseline is the public answer of a path: what a plain client (no Origin,
// no cookies) gets, against which a wildcard read is compared.
type baseline struct {
	path   string
	method string
	status int
	body   string
	err    error
	done   bool
}

// Start checks c, derives the attacker origins and starts the Env (unless
// c.Env is given). The caller must Close the Probe.
func Start(ctx context.Context, c Config) (*Probe, error) {
	if err := c.Check(); err != nil {
		return nil, err
	}
	p := &Probe{cfg: c, timeout: c.Timeout, baselines: map[string]*baseline{}}
	if p.timeout == 0 {
		p.timeout = 30 * time.Second
	}
	p.trusted, _ = harness.CheckPageOrigin(c.Trusted)
	p.classes, _ = ParseClasses(classList(c.Classes))
	all, skipped, err := Attackers(p.trusted)
	if err != nil {
		return nil, bad("Trusted", c.Trusted, "%v", err)
	}
	for _, a := range all {
		// The arbitrary origin is every run's control: it shows a server
		// that lets any origin in, which the other classes are folded into.
		if a.Class == ReflectedOrigin || slices.Contains(p.classes, a.Class) {
			p.attackers = append(p.attackers, a)
		}
	}
	for _, s := range skipped {
		if slices.Contains(p.classes, s.Class) {
			p.skipped = append(p.skipped, s)
		}
	}
	p.methods = c.Methods
	if len(p.methods) == 0 {
		p.methods = []string{http.MethodGet}
	}
	if c.Rate > 0 {
		p.lim = &limiter{every: time.Duration(float64(time.Second) / c.Rate)}
	}
	p.paths = slices.Clone(c.Paths)
	if c.URL != "" {
		u, _ := url.Parse(c.URL)
		p.base = u.Scheme + "://" + u.Host
		if len(p.paths) == 0 {
			p.paths = []string{u.RequestURI()}
		}
	}
	if len(p.paths) == 0 {
		p.paths = []string{"/"}
	}
	p.env = c.Env
	if p.env == nil {
		opts, err := EnvOptions(ctx, c, true)
		if err != nil {
			return nil, err
		}
		if p.env, err = harness.Start(ctx, opts); err != nil {
			return nil, fmt.Errorf("probe: %w", err)
		}
		p.ownEnv = true
	}
	p.engines = p.env.Engines()
	if u, err := url.Parse(c.URL); err == nil && u.Scheme == "http" && !slices.Contains(p.engines, verdict.WebKit) {
		if running, err := harness.ChosenEngines(c.Engines...); err == nil && slices.Contains(running, verdict.WebKit) {
			p.note(WebKitLeftOut)
		}
	}
	if p.base == "" {
		p.base = p.env.Bases().API
	}
	if same(p.trusted, p.base) {
		p.Close()
		return nil, bad("Trusted", c.Trusted, "is the target's own origin: its requests would not be cross-origin")
	}
	return p, nil
}

// Close closes the Envs the probe started.
func (p *Probe) Close() error {
	var errs []error
	p.victimsMu.Lock()
	for _, v := range p.victims {
		for _, t := range v.tabs {
			errs = append(errs, t.Close())
		}
		if v.root != nil {
			errs = append(errs, v.root.Close())
		}
	}
	p.victims = nil
	p.victimsMu.Unlock()
	if p.ownEnv && p.env != nil {
		errs = append(errs, p.env.Close())
	}
	if p.ownDef && p.def != nil {
		errs = append(errs, p.def.Close())
	}
	return errors.Join(errs...)
}

// Attackers are the attacker origins this probe tries.
func (p *Probe) Attackers() []Attacker { return p.attackers }

// Engines are the engines the probe runs in.
func (p *Probe) Engines() []verdict.Engine { return p.engines }

// Target is the origin of the target, scheme://host[:port].
func (p *Probe) Target() string { return p.base }

// Plan describes, in lines, every request the probe will ask the browsers
// to send to the target, and what else it sends: for a remote target it is
// printed before anything is sent.
func (p *Probe) Plan() []string {
	var lines []string
	cookies := "no cookies"
	if len(p.cfg.Cookies) > 0 {
		cookies = "each also with credentials and the cookies " + strings.Join(cookieNames(p.cfg.Cookies), ", ")
	}
	per := len(p.paths) * len(p.methods) * len(p.Engines())
	lines = append(lines, fmt.Sprintf("to %s, from real pages in %s (%s):", p.base, engineList(p.Engines()), cookies))
	for _, m := range p.methods {
		for _, path := range p.paths {
			lines = append(lines, fmt.Sprintf("  %s %s", m, path))
		}
	}
	origins := []string{p.trusted + " (trusted)"}
	for _, a := range p.attackers {
		origins = append(origins, a.Origin)
	}
	lines = append(lines, fmt.Sprintf("  from %d origins: %s", len(origins), strings.Join(origins, ", ")))
	n := per * len(origins)
	if len(p.cfg.Cookies) > 0 {
		n *= 2
	}
	lines = append(lines, fmt.Sprintf("  about %d requests (and the preflights the browsers add); redirects are never followed", n))
	lines = append(lines, "  and, when an attacker reads an answer with Access-Control-Allow-Origin: *, one plain GET per path without Origin or cookies (the public answer, for its severity)")
	if p.lim != nil {
		lines = append(lines, fmt.Sprintf("  at most %s requests per second", strconv.FormatFloat(p.cfg.Rate, 'g', -1, 64)))
	}
	return lines
}

// Job is one scenario in one engine (or one plain request) of a batch.
type Job struct {
	// Name says what the job sends, for progress lines.
	Name string
	// Batch says what its batch is for: the trusted origin, the attacker
	// origins, or the follow-ups the findings need.
	Batch string
	do    func(ctx context.Context) error
}

// Run runs the job; its outcome is kept in the Probe (and its error in the Report).
func (j Job) Run(ctx context.Context) error { return j.do(ctx) }

// Next returns the next batch of jobs, to be run (in any order, at once or
// not) before Next is called again; none when the probe is done. The first
// batches run the trusted origin (and follow redirects within the target's
// origin by adding their paths), then the attacker origins, then what the
// findings need: the same credentialed requests under each engine's default
// cookie setting, and the public answer of a path an attacker read with *.
func (p *Probe) Next(ctx context.Context) ([]Job, error) {
	for {
		switch p.stage {
		case stageTrusted:
			if p.rounds > 0 {
				if err := p.reachable(); err != nil {
					return nil, err
				}
				p.followRedirects()
			}
			if p.rounds < 4 {
				p.rounds++
				if jobs := p.trustedJobs(); len(jobs) > 0 {
					return batch("the trusted origin", jobs), nil
				}
			}
			p.stage = stageAttackers
		case stageAttackers:
			p.stage = stageFollowUps
			if jobs := p.attackerJobs(); len(jobs) > 0 {
				return batch("the attacker origins", jobs), nil
			}
		case stageFollowUps:
			p.stage = stageDone
			jobs, err := p.followUpJobs(ctx)
			if err != nil || len(jobs) > 0 {
				return batch("what the findings need", jobs), err
			}
		default:
			return nil, nil
		}
	}
}

func batch(name string, jobs []Job) []Job {
	for i := range jobs {
		jobs[i].Batch = name
	}
	return jobs
}

// Run runs every batch of the probe, parallel jobs at once, and returns its Report.
func (p *Probe) Run(ctx context.Context, parallel int) (*Report, error) {
	parallel = max(parallel, 1)
	for {
		jobs, err := p.Next(ctx)
		if err != nil {
			return nil, err
		}
		if len(jobs) == 0 {
			break
		}
		sem := make(chan struct{}, parallel)
		var wg sync.WaitGroup
		for _, j := range jobs {
			if ctx.Err() != nil {
				break
			}
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				_ = j.Run(ctx)
			})
		}
		wg.Wait()
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("probe: %w", err)
		}
	}
	return p.Report(), nil
}

// deal reports whether this shard reports the i-th key (keys are dealt round-robin).
func (p *Probe) deal(i int) bool {
	return p.cfg.Shards <= 1 || i%p.cfg.Shards == p.cfg.Shard-1
}

// keysFor lists the keys of origin for every path and method, credentialed too when there are cookies.
func (p *Probe) keysFor(origin string, class Class, trusted bool) []key {
	var out []key
	for _, path := range p.paths {
		for _, m := range p.methods {
			out = append(out, key{origin: origin, class: class, path: path, method: m, trusted: trusted})
			if len(p.cfg.Cookies) > 0 {
				out = append(out, key{origin: origin, class: class, path: path, method: m, cred: true, trusted: trusted})
			}
		}
	}
	return out
}

func (p *Probe) trustedJobs() []Job {
	var jobs []Job
	for i, k := range p.keysFor(p.trusted, "", true) {
		if slices.ContainsFunc(p.runs, func(r *run) bool { return r.key == k }) {
			continue
		}
		jobs = append(jobs, p.jobs(k, p.deal(i), true)...)
	}
	return jobs
}

func (p *Probe) attackerJobs() []Job {
	var jobs []Job
	for _, pk := range p.attackerKeys() {
		jobs = append(jobs, p.jobs(pk.key, pk.owned, true)...)
	}
	return jobs
}

// planned is a key this shard runs, and whether it reports it.
type planned struct {
	key
	owned bool
}

// attackerKeys are the attacker keys this shard runs: its share of them,
// dealt round-robin, and the arbitrary origin's in every shard (it shows
// whether any origin is let in, which every shard's findings are judged
// by), reported by the shard it is dealt to.
func (p *Probe) attackerKeys() []planned {
	var out []planned
	i := 0
	for _, a := range p.attackers {
		for _, k := range p.keysFor(a.Origin, a.Class, false) {
			owned := p.deal(i)
			i++
			if owned || a.Class == ReflectedOrigin {
				out = append(out, planned{k, owned})
			}
		}
	}
	return out
}

// jobs makes k's runs, one per engine, and their jobs.
func (p *Probe) jobs(k key, owned, thirdParty bool) []Job {
	var jobs []Job
	for _, e := range p.Engines() {
		r := &run{key: k, engine: e, thirdParty: thirdParty, owned: owned, sc: p.scenario(k)}
		p.runs = append(p.runs, r)
		name := fmt.Sprintf("%s %s from %s [%s]", k.method, k.path, k.origin, e)
		if k.cred {
			name = fmt.Sprintf("%s %s from %s with cookies [%s]", k.method, k.path, k.origin, e)
		}
		if !thirdParty {
			name += " (default cookies)"
		}
		jobs = append(jobs, Job{Name: name, do: func(ctx context.Context) error { return p.play(ctx, r) }})
	}
	return jobs
}

// scenario is k as a harness.Scenario: a fetch (redirects refused, so none
// is ever followed), with the cookies stored first when credentialed; the
// trusted origin's preflighted request is sent twice, to see whether the
// browser answers the repeat from its preflight cache.
func (p *Probe) scenario(k key) harness.Scenario {
	req := harness.Request{API: harness.Fetch, Method: k.method, URL: k.path, Credentials: k.cred, RedirectMode: "error"}
	if hasBody(k.method) {
		req.Body = "corslab probe" // text/plain: a simple request for POST
	}
	sc := harness.Scenario{Name: caseName(k), From: k.origin, Sends: []harness.Send{{Request: req}}}
	if k.cred {
		sc.Cookies = p.cfg.Cookies
	}
	if k.trusted && model.NeedsPreflight(k.method, nil, false, "") {
		sc.Sends = append(sc.Sends, harness.Send{Request: req, Reuse: 1})
	}
	return sc
}

func hasBody(method string) bool {
	switch strings.ToUpper(method) {
	case "POST", "PUT", "PATCH":
		return true
	}
	return false
}

// unsafe reports whether a method may change state on the server (not GET, HEAD or OPTIONS).
func unsafe(method string) bool {
	switch strings.ToUpper(method) {
	case "GET", "HEAD", "OPTIONS":
		return false
	}
	return true
}

func (p *Probe) play(ctx context.Context, r *run) error {
	n := 0
	for _, s := range r.sc.Sends {
		n++
		if !model.NeedsPreflight(s.Request.Method, nil, false, "") {
			continue
		}
		if s.Reuse == 0 {
			n++ // its preflight
		}
	}
	if err := p.lim.wait(ctx, n); err != nil {
		return p.store(r, nil, err)
	}
	env := p.env
	if !r.thirdParty {
		env = p.def
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout*time.Duration(len(r.sc.Sends)))
	defer cancel()
	if len(r.sc.Cookies) == 0 || r.engine == verdict.WebKit {
		// WebKit: a context is a MiniBrowser, and one with a window per
		// attacker origin (about twenty) died or stopped loading under
		// corslab's probe specs (measured, WebKitGTK 2.50), so each
		// credentialed run there gets a context of its own, as Env.Play gives.
		results, err := env.In(r.engine).Play(ctx, r.sc)
		return p.store(r, results, err)
	}
	// A credentialed run: the page runs in the victim's browser, which
	// holds the cookies, as an attacker's page opened there would.
	tab, err := p.victimTab(ctx, env.In(r.engine), r.thirdParty, r.sc.From)
	if err != nil {
		return p.store(r, nil, err)
	}
	sc := r.sc
	sc.Cookies = nil
	results, err := tab.Play(ctx, sc)
	return p.store(r, results, err)
}

// victimKey names a victim's browser: an engine, and third-party cookies
// allowed or the engine's default.
type victimKey struct {
	engine     verdict.Engine
	thirdParty bool
}

// victim is the victim's browser in one engine: one browser context that
// holds the target's cookies (stored once, as a first-party visit to the
// target would), and a tab per page origin opened in it. Every credentialed
// request of the probe comes from a tab of it: requests stay apart by their
// tokens (their own URLs, so their own cache entries), as everywhere else.
type victim struct {
	mu   sync.Mutex
	root *harness.Session
	tabs map[string]*harness.Session
}

// victimTab returns the tab of the victim's browser in env's engine whose
// page runs as origin, opening the browser (and storing the cookies) or the
// tab on first use.
func (p *Probe) victimTab(ctx context.Context, env *harness.Env, thirdParty bool, origin string) (*harness.Session, error) {
	p.victimsMu.Lock()
	if p.victims == nil {
		p.victims = map[victimKey]*victim{}
	}
	k := victimKey{env.Engine(), thirdParty}
	v := p.victims[k]
	if v == nil {
		v = &victim{tabs: map[string]*harness.Session{}}
		p.victims[k] = v
	}
	p.victimsMu.Unlock()
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.root == nil {
		s, err := env.NewSession(ctx)
		if err != nil {
			return nil, fmt.Errorf("the victim's browser in %s: %w", env.Engine(), err)
		}
		for _, c := range p.cfg.Cookies {
			if err := s.SetCookie(ctx, p.base+p.paths[0], c); err != nil {
				s.Close()
				return nil, fmt.Errorf("the victim's browser in %s: store a cookie: %w", env.Engine(), err)
			}
		}
		v.root = s
	}
	if t := v.tabs[origin]; t != nil {
		return t, nil
	}
	var t *harness.Session
	var err error
	if origin == "null" {
		t, err = v.root.NewSandboxedTab(ctx)
	} else {
		t, err = v.root.NewTabAs(ctx, origin)
	}
	if err != nil {
		return nil, fmt.Errorf("the victim's browser in %s: a tab on %s: %w", env.Engine(), origin, err)
	}
	v.tabs[origin] = t
	return t, nil
}

func (p *Probe) store(r *run, results []harness.Result, err error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	r.results, r.err = results, err
	if err != nil {
		r.err = fmt.Errorf("%s %s from %s in %s: %w", r.method, r.path, r.origin, r.engine, err)
	}
	return r.err
}

// reachable fails when every trusted request failed on the network: the target does not answer.
func (p *Probe) reachable() error {
	var why []string
	for _, r := range p.runs {
		if !r.trusted {
			continue
		}
		if r.err != nil {
			why = append(why, r.err.Error())
			continue
		}
		if len(r.results) == 0 {
			continue
		}
		v := r.results[0].Verdict()
		if v.Outcome != verdict.Failed || r.results[0].Browser.Actual != nil && r.results[0].Browser.Actual.Status > 0 {
			return nil
		}
		why = append(why, fmt.Sprintf("%s %s in %s: %s", r.method, r.path, r.engine, v))
	}
	if len(why) == 0 {
		return nil
	}
	return fmt.Errorf("probe: the target %s does not answer: %s", p.base, why[0])
}

// followRedirects adds the paths the trusted requests were redirected to
// within the target's origin (at most 8), and notes the others: the
// browsers follow no redirect (redirect: "error"), so nothing is ever sent
// off the target's origin.
func (p *Probe) followRedirects() {
	for _, r := range p.runs {
		if !r.trusted || r.cred || len(r.results) == 0 || r.engine != p.Engines()[0] {
			continue
		}
		a := r.results[0].Browser.Actual
		if a == nil || a.Status < 300 || a.Status > 399 || a.ResponseHeaders["location"] == "" {
			continue
		}
		loc := a.ResponseHeaders["location"]
		from, _ := url.Parse(p.base + r.path)
		to, err := from.Parse(loc)
		if err != nil {
			continue
		}
		q := to.Query()
		q.Del(servers.TokenParam)
		to.RawQuery = q.Encode()
		to.Fragment = ""
		note := fmt.Sprintf("%s %s answers %d, redirecting to %s", r.method, r.path, a.Status, to)
		if !same(to.Scheme+"://"+to.Host, p.base) {
			p.note(note + ": off the target's origin, so not followed (the browsers were told to follow no redirect)")
			continue
		}
		path := to.RequestURI()
		if slices.Contains(p.paths, path) {
			continue
		}
		if len(p.paths) >= len(p.cfg.Paths)+8 {
			p.note(note + ": not probed (at most 8 paths are added by redirects; name it with --path)")
			continue
		}
		p.paths = append(p.paths, path)
		p.note(note + ": the target's own origin, so " + path + " is probed too")
	}
}

func (p *Probe) note(s string) {
	if !slices.Contains(p.notes, s) {
		p.notes = append(p.notes, s)
	}
}

// followUpJobs are what the attacker runs' findings need: a credentialed
// read with the cookie sent, again under the engine's default cookie
// setting; and the public answer of a path read with *.
func (p *Probe) followUpJobs(ctx context.Context) ([]Job, error) {
	hs := p.hits()
	var jobs []Job
	var again []*run
	for _, h := range hs {
		if h.severity == High && h.run.thirdParty && !slices.ContainsFunc(again, func(r *run) bool { return r.key == h.run.key && r.engine == h.run.engine }) {
			again = append(again, h.run)
		}
	}
	if len(again) > 0 {
		if err := p.startDefault(ctx); err != nil {
			return nil, err
		}
		for _, r := range again {
			d := &run{key: r.key, engine: r.engine, owned: r.owned, sc: r.sc}
			p.runs = append(p.runs, d)
			name := fmt.Sprintf("%s %s from %s with cookies [%s] (the engine's default cookies)", r.method, r.path, r.origin, r.engine)
			jobs = append(jobs, Job{Name: name, do: func(ctx context.Context) error { return p.play(ctx, d) }})
		}
	}
	for _, h := range hs {
		m := strings.ToUpper(h.run.method)
		if !h.wildcardRead || m != http.MethodGet && m != http.MethodHead {
			continue
		}
		bk := baselineKey(h.run.path, m)
		if _, ok := p.baselines[bk]; ok {
			continue
		}
		b := &baseline{path: h.run.path, method: m}
		p.baselines[bk] = b
		jobs = append(jobs, Job{Name: m + " " + b.path + " without Origin (the public answer)", do: func(ctx context.Context) error { return p.fetchBaseline(ctx, b) }})
	}
	return jobs, nil
}

func (p *Probe) startDefault(ctx context.Context) error {
	if p.def != nil {
		return nil
	}
	if p.cfg.DefaultEnv != nil {
		p.def = p.cfg.DefaultEnv
		return nil
	}
	opts, err := EnvOptions(ctx, p.cfg, false)
	if err != nil {
		return err
	}
	if p.cfg.Env != nil {
		// The caller's Env serves the target: reach it by its URL.
		opts.Servers, opts.APIURL = servers.Options{}, p.base
		opts.ChromeFlags = nil
		if u, err := url.Parse(p.base); err == nil {
			if addrs := loopbackAddrs(ctx, u); len(addrs) > 0 {
				for i, a := range addrs {
					addrs[i] = a + "=public"
				}
				opts.ChromeFlags = map[string]any{"ip-address-space-overrides": strings.Join(addrs, ",")}
			}
		}
	}
	if p.def, err = harness.Start(ctx, opts); err != nil {
		return fmt.Errorf("probe: start the browsers with their default cookie setting: %w", err)
	}
	p.ownDef = true
	return nil
}

// fetchBaseline fetches b's path as a plain client would: no Origin, no
// cookies, no redirect followed.
func (p *Probe) fetchBaseline(ctx context.Context, b *baseline) error {
	status, body, err := p.plainRequest(ctx, b.method, b.path)
	p.mu.Lock()
	defer p.mu.Unlock()
	b.status, b.body, b.err, b.done = status, body, err, err == nil
	return err
}

// plainRequest sends method path to the target as a plain client would:
// no Origin, no cookies, no redirect followed; it returns the status and
// the body (at most 4 MiB).
func (p *Probe) plainRequest(ctx context.Context, method, path string) (int, string, error) {
	if err := p.lim.wait(ctx, 1); err != nil {
		return 0, "", err
	}
	target := p.base + path
	if p.cfg.URL == "" {
		// A mounted handler's journal keeps requests by token: give it one to forget.
		token := harness.NewToken()
		defer p.env.Origins.Journal.Forget(token)
		u, err := url.Parse(target)
		if err != nil {
			return 0, "", fmt.Errorf("%s %s without Origin: %w", method, path, err)
		}
		q := u.Query()
		q.Set(servers.TokenParam, token)
		u.RawQuery = q.Encode()
		target = u.String()
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, target, nil)
	if err != nil {
		return 0, "", fmt.Errorf("%s %s without Origin: %w", method, path, err)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("%s %s without Origin: %w", method, path, err)
	}
	defer resp.Body.Close()
	body, err := readAll(resp, 4<<20)
	if err != nil {
		return 0, "", fmt.Errorf("%s %s without Origin: read the body: %w", method, path, err)
	}
	return resp.StatusCode, body, nil
}

// limiter spaces requests out to a rate; a nil limiter does not wait.
type limiter struct {
	mu    sync.Mutex
	every time.Duration
	next  time.Time
}

// wait reserves n request slots and waits for the first.
func (l *limiter) wait(ctx context.Context, n int) error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	at := time.Now()
	if l.next.After(at) {
		at = l.next
	}
	l.next = at.Add(time.Duration(n) * l.every)
	l.mu.Unlock()
	t := time.NewTimer(time.Until(at))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func same(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && strings.EqualFold(ua.Scheme, ub.Scheme) && strings.EqualFold(ua.Host, ub.Host)
}

func cookieNames(lines []string) []string {
	var out []string
	for _, l := range lines {
		if c, err := http.ParseSetCookie(l); err == nil {
			out = append(out, c.Name)
		}
	}
	return out
}

func engineList(es []verdict.Engine) string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = string(e)
	}
	return strings.Join(s, ", ")
}

// caseName names k's case in an expectations file (unique per key).
func caseName(k key) string {
	who := string(k.class)
	if k.trusted {
		who = "trusted"
	}
	s := fmt.Sprintf("%s: %s %s from %s", who, k.method, k.path, k.origin)
	if k.cred {
		s += " with cookies"
	}
	return s
}

package model

import (
	"fmt"
	"net"
	neturl "net/url"
	"strings"
	"sync"
	"time"

	"github.com/corslab/corslab/harness/verdict"
	"github.com/corslab/corslab/servers"
)

// Prediction is what the model says a browser does with one request.
type Prediction struct {
	// Profile is the profile that predicted it ("chrome" or "fetch").
	Profile string
	// NotModelled says why the model made no prediction ("" when it made one).
	NotModelled string
	// Preflight is true when an OPTIONS preflight goes on the wire.
	Preflight bool
	// FromCache is true when a preflight was needed and the cache answered it.
	FromCache bool
	// CacheMayMiss is true when FromCache is, but the engine does not always
	// reuse what its cache holds (Profile.CacheHitNotGuaranteed): a new
	// preflight is then no disagreement.
	CacheMayMiss bool
	// CacheMayHit is true when Preflight is, but an entry the engine usually
	// does not reuse covers the request (Profile.UncachedFirstPreflights):
	// no preflight is then no disagreement.
	CacheMayHit bool
	// Sent is true when the actual request reaches the server.
	Sent bool
	// Verdict is the outcome: allowed, opaque, or blocked with the common
	// reason and the value the browser blames (a header name, the
	// Allow-Origin value). A method a no-cors request may not use fails
	// before anything is sent (Threw).
	Verdict verdict.Verdict
	// Readable lists, of the header names the policy adds to the response
	// (servers.Policy.Headers), those the page can read: lower-cased, sorted.
	Readable []string
	// FromResponse is true when the prediction was made after the request,
	// from the headers the server answered (a server that is not corslab's
	// own API has no Policy to predict from before).
	FromResponse bool
}

// String is the prediction in one line, e.g. "preflight, blocked HeaderDisallowedByPreflightResponse (x-a)".
func (p Prediction) String() string {
	switch {
	case p.Profile == "":
		return "nothing (no prediction was made)"
	case p.NotModelled != "":
		return "nothing (" + p.NotModelled + ")"
	}
	var parts []string
	switch {
	case p.FromCache && p.CacheMayMiss:
		parts = append(parts, "preflight from cache (or sent again)")
	case p.FromCache:
		parts = append(parts, "preflight from cache")
	case p.Preflight && p.CacheMayHit:
		parts = append(parts, "preflight (or from cache)")
	case p.Preflight:
		parts = append(parts, "preflight")
	default:
		parts = append(parts, "no preflight")
	}
	switch v := p.Verdict; v.Outcome {
	case verdict.Blocked:
		s := "blocked " + string(v.Reason)
		if v.Parameter != "" {
			s += " (" + v.Parameter + ")"
		}
		parts = append(parts, s)
	case "":
		parts = append(parts, "fails")
	default:
		parts = append(parts, string(v.Outcome))
	}
	if p.Verdict.Outcome == verdict.Allowed && len(p.Readable) > 0 {
		parts = append(parts, "readable "+strings.Join(p.Readable, ","))
	}
	s := p.Profile + ": " + strings.Join(parts, ", ")
	if p.FromResponse {
		s += " (from the headers the server answered)"
	}
	return s
}

// Browser predicts the requests of one browser context whose page is on
// Origin: it holds that context's preflight cache. Use one per session.
type Browser struct {
	Profile Profile
	Origin  string
	// Now is the clock; nil means time.Now.
	Now   func() time.Time
	mu    sync.Mutex // tabs of one browser context predict at once
	cache PreflightCache
	// doubtful holds the passed preflights the engine usually does not
	// reuse (Profile.UncachedFirstPreflights), yet sometimes does.
	doubtful PreflightCache
	first    *Tab // the tab Browser.Predict predicts for
}

// NewBrowser returns a Browser with an empty preflight cache.
func NewBrowser(p Profile, origin string) *Browser {
	b := &Browser{Profile: p, Origin: origin}
	b.first = &Tab{b: b}
	return b
}

// Tab is one tab of a Browser: it shares the Browser's preflight cache and
// keeps what an engine keeps per tab (Profile.UncachedFirstPreflights).
type Tab struct {
	b          *Browser
	preflights int // preflights this tab has sent
}

// NewTab returns another tab of b.
func (b *Browser) NewTab() *Tab { return &Tab{b: b} }

// Browser is the browser context the tab belongs to.
func (t *Tab) Browser() *Browser { return t.b }

// Predict is Browser.Predict for a request the tab sends.
func (t *Tab) Predict(url, method string, headers []servers.Header, credentials bool, mode string, uploadListener bool, policy servers.Policy) Prediction {
	t.b.mu.Lock()
	defer t.b.mu.Unlock()
	return t.b.predict(t, url, method, headers, credentials, mode, uploadListener, policy)
}

// Predict implements main fetch's CORS path (Fetch §4.1 steps 12-14, §4.5, §4.8)
// for a request to url: method and headers as the page set them, credentials
// (withCredentials / credentials "include"), mode ("" or "cors", or
// "no-cors"), an XHR upload listener, and the policy the server answers with.
// A preflight that passes is remembered in the Browser's cache.
func (b *Browser) Predict(url, method string, headers []servers.Header, credentials bool, mode string, uploadListener bool, policy servers.Policy) Prediction {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.predict(b.first, url, method, headers, credentials, mode, uploadListener, policy)
}

func (b *Browser) predict(tab *Tab, url, method string, headers []servers.Header, credentials bool, mode string, uploadListener bool, policy servers.Policy) Prediction {
	p := b.Profile
	pred := Prediction{Profile: p.Name}
	method = NormalizeMethod(method)
	if mode == "no-cors" {
		// Main fetch step 12 "no-cors": no preflight, an opaque response; a
		// method that is not CORS-safelisted is a TypeError before anything is sent.
		if !IsSafelistedMethod(method) {
			pred.Verdict = verdict.Verdict{Outcome: verdict.Threw}
			return pred
		}
		pred.Sent, pred.Verdict = true, verdict.Verdict{Outcome: verdict.Opaque}
		return pred
	}
	now := time.Now()
	if b.Now != nil {
		now = b.Now()
	}
	if p.needsPreflight(method, headers, uploadListener, mode) {
		unsafe := p.unsafeRequestHeaderNames(headers)
		if b.cache.covers(p, url, now, credentials, method, unsafe) {
			pred.FromCache, pred.CacheMayMiss = true, p.CacheHitNotGuaranteed
		} else {
			pred.Preflight = true
			pred.CacheMayHit = b.doubtful.covers(p, url, now, credentials, method, unsafe)
			pp := policy
			if policy.Preflight != nil {
				pp = *policy.Preflight
			}
			methods, names, err := p.preflightChecks(b.Origin, method, headers, credentials, uploadListener, pp)
			refused := err != nil && (err.Reason == verdict.MethodDisallowedByPreflightResponse || err.Reason == verdict.HeaderDisallowedByPreflightResponse)
			if err == nil || refused && p.CachesRefusedPreflight {
				maxAge, present := pp.MaxAge, pp.MaxAge != ""
				tab.preflights++
				if tab.preflights > p.UncachedFirstPreflights || !ipLiteralHost(url) {
					b.cache.store(p, url, now, p.MaxAge(maxAge, present), credentials, method, methods, names)
				} else {
					b.doubtful.store(p, url, now, p.MaxAge(maxAge, present), credentials, method, methods, names)
				}
			}
			if err != nil {
				pred.Verdict = err.verdict()
				return pred
			}
		}
	}
	pred.Sent = true
	// Main fetch step 14 / HTTP fetch step 4.3: the actual response must pass
	// the CORS check; a redirect (HTTP-redirect fetch) must pass it at every
	// hop, and a hop to another origin taints the request's origin (null).
	origin := b.Origin
	for hop := 0; ; hop++ {
		if err := CORSCheck(origin, allowOriginValues(policy, origin), policy.AllowCredentials, credentials); err != nil {
			pred.Verdict = err.verdict()
			return pred
		}
		r := policy.Redirect
		if r == nil {
			break
		}
		if hop == 0 && pred.Preflight || hop > 4 {
			// A redirected request that needed a preflight preflights again at
			// the new URL; the model does not follow that.
			return Prediction{Profile: p.Name, NotModelled: "a preflighted request that is redirected"}
		}
		if loc, err := neturl.Parse(r.To); err == nil && loc.User != nil {
			pred.Verdict = verdict.Verdict{Outcome: verdict.Blocked, Reason: verdict.RedirectContainsCredentials}
			return pred
		}
		if r.To != "" && !sameOrigin(r.To, url) {
			origin = "null" // the tainted origin flag
		}
		url = r.To + "/next"
		if r.Then != nil {
			policy = *r.Then
		} else {
			policy = servers.Policy{}
		}
	}
	pred.Verdict = verdict.Verdict{Outcome: verdict.Allowed}
	var names []string
	for _, h := range policy.Headers {
		names = append(names, h.Name)
	}
	pred.Readable = ReadableResponseHeaders(names, policy.ExposeHeaders, credentials)
	return pred
}

// ipLiteralHost reports whether rawURL's host is an IP address, not a name.
func ipLiteralHost(rawURL string) bool {
	u, err := neturl.Parse(rawURL)
	return err == nil && net.ParseIP(u.Hostname()) != nil
}

// sameOrigin reports whether origin (scheme://host:port) is the origin of rawURL.
func sameOrigin(origin, rawURL string) bool {
	a, err1 := neturl.Parse(origin)
	b, err2 := neturl.Parse(rawURL)
	return err1 == nil && err2 == nil && a.Scheme == b.Scheme && strings.EqualFold(a.Host, b.Host)
}

func (f *Failure) verdict() verdict.Verdict {
	return verdict.Verdict{Outcome: verdict.Blocked, Reason: f.Reason, Parameter: f.FailedParameter}
}

// Compare lists where a prediction and what happened differ; each argument is
// what the browser did. readable is nil when the page got no response.
func (p Prediction) Compare(preflight, sent bool, got verdict.Verdict, readable []string) []string {
	if p.NotModelled != "" || p.Profile == "" {
		return nil
	}
	var d []string
	if p.Preflight != preflight && !(p.CacheMayMiss && preflight) && !(p.CacheMayHit && !preflight) {
		d = append(d, fmt.Sprintf("preflight on the wire: model %v, browser %v", p.Preflight, preflight))
	}
	if p.Sent != sent {
		d = append(d, fmt.Sprintf("actual request reached the server: model %v, browser %v", p.Sent, sent))
	}
	// A parameter counts only when both name one: engines differ in what
	// they name (Firefox names no value for several reasons, Chromium none
	// for an unparsable Allow-Methods), and that is reporting, not behaviour.
	want := p.Verdict
	if want.Parameter == "" || got.Parameter == "" {
		want.Parameter = got.Parameter
	}
	if want != got {
		d = append(d, fmt.Sprintf("verdict: model %s, browser %s", strings.Join(strings.Fields(p.Verdict.String()), " "), strings.Join(strings.Fields(got.String()), " ")))
	}
	if p.Verdict.Outcome == verdict.Allowed && got.Outcome == verdict.Allowed && strings.Join(p.Readable, ",") != strings.Join(readable, ",") {
		d = append(d, fmt.Sprintf("readable headers: model [%s], page [%s]", strings.Join(p.Readable, ","), strings.Join(readable, ",")))
	}
	return d
}

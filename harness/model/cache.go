package model

import (
	"strconv"
	"strings"
	"time"
)

// The preflight cache's limits (Fetch §4.8 step 7.8-7.9; Chromium's preflight_result.cc).
const (
	DefaultMaxAge = 5 * time.Second    // no or unusable Access-Control-Max-Age
	MaxMaxAge     = 7200 * time.Second // the "imposed limit on max-age" Chrome uses
)

// MaxAge implements CORS-preflight fetch steps 7.8-7.9 for one
// Access-Control-Max-Age value (present false: no header): how long the
// preflight's answer may be reused. A value that is not a number counts as
// absent (5 s); larger values are capped at 7200 s; 0 and negative values
// mean no reuse (the conformance tests' "age = -1, should not be cached",
// web-platform-tests cors/preflight-cache.htm).
func (p Profile) MaxAge(value string, present bool) time.Duration {
	if !present {
		return DefaultMaxAge
	}
	n, err := strconv.ParseInt(strings.Trim(value, " \t"), 10, 64)
	switch {
	case err != nil && digitsOnly(value):
		return MaxMaxAge // delta-seconds too large for int64: capped
	case err != nil && p.UnparsableMaxAgeNotCached:
		return 0
	case err != nil:
		return DefaultMaxAge
	case n < 0:
		return 0
	case n > int64(MaxMaxAge/time.Second):
		return MaxMaxAge
	}
	return time.Duration(n) * time.Second
}

func digitsOnly(s string) bool { return s != "" && digits(s) }

// cacheEntry is what one successful preflight left in the cache for one URL:
// the standard's method and header-name cache entries for that URL, which
// share their max-age and credentials.
type cacheEntry struct {
	expires     time.Time
	credentials bool
	methods     map[string]bool
	names       map[string]bool
}

// PreflightCache implements the CORS-preflight cache (Fetch §4.8 "CORS-preflight
// cache") of one browser context, for one page origin: entries keyed by URL
// (the network partition key and origin are the same for every request of a
// session), per method and per header name, with their credentials mode.
type PreflightCache struct {
	entries map[string]*cacheEntry
}

// store implements CORS-preflight fetch step 7.10-7.11: a passed preflight
// creates (or refreshes) the method and header-name entries for url.
func (c *PreflightCache) store(p Profile, url string, now time.Time, maxAge time.Duration, credentials bool, method string, methods, names []string) {
	if maxAge <= 0 {
		return
	}
	url = p.cacheKey(url, credentials)
	if c.entries == nil {
		c.entries = map[string]*cacheEntry{}
	}
	e := &cacheEntry{expires: now.Add(maxAge), credentials: credentials, methods: map[string]bool{}, names: map[string]bool{}}
	if old, ok := c.entries[url]; ok && old.credentials == credentials && now.Before(old.expires) {
		e = old
		e.expires = now.Add(maxAge)
	}
	// Step 7.10: "*" is stored as the request's method on a non-credentialed request.
	for _, m := range methods {
		if m == "*" && p.WildcardNotReused {
			continue
		}
		if m == "*" && !credentials {
			m = method
		}
		e.methods[m] = true
	}
	for _, n := range names {
		if n == "*" && p.WildcardNotReused {
			continue
		}
		e.names[strings.ToLower(n)] = true
	}
	c.entries[url] = e
}

// covers implements the cache lookup of HTTP-network-or-cache fetch (Fetch
// §4.5 step 8.1 via "method cache entry match" and "header-name cache entry
// match"): a live entry for url whose credentials fit (a credentialed entry
// also serves non-credentialed requests) and that lists the method (unless
// safelisted) and every CORS-unsafe header name.
func (c *PreflightCache) covers(p Profile, url string, now time.Time, credentials bool, method string, unsafe []string) bool {
	e, ok := c.entries[p.cacheKey(url, credentials)]
	if !ok || !now.Before(e.expires) || credentials && !e.credentials {
		return false
	}
	if !IsSafelistedMethod(method) && !e.methods[method] && !(p.MethodMatchUpperCased && e.methods[strings.ToUpper(method)]) {
		return false
	}
	wildcard := e.names["*"] && !credentials
	for _, n := range unsafe {
		// A cached `*` never covers Authorization, not even in Chrome (see Profile).
		if !e.names[n] && !(wildcard && n != "authorization") {
			return false
		}
	}
	return true
}

// cacheKey is the key of url's entry: the URL, and the credentials mode
// too where the engine keeps separate entries for each (Profile.CacheKeyedByCredentials).
func (p Profile) cacheKey(url string, credentials bool) string {
	if p.CacheKeyedByCredentials && credentials {
		return url + "\x00credentials"
	}
	return url
}

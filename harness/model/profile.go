package model

import "github.com/corslab/corslab/harness/verdict"

// Profile says which browser the model predicts: Standard follows the Fetch
// standard to the letter; each engine's profile adds the deviations corslab
// measured in that engine. Every deviation is a field of Profile, so this file
// is the one list of them, each with its evidence (docs/engines/ has the
// measurements, the specs named here re-measure them on every run).
type Profile struct {
	// Name names the profile in predictions ("fetch", or the engine's name).
	Name string
	// Engine is the engine the profile describes; "" for Standard.
	Engine verdict.Engine

	// AllowHeadersWildcardCoversAuthorization: `Access-Control-Allow-Headers: *`
	// lets a non-credentialed request send Authorization. The standard keeps
	// Authorization out of the wildcard ("CORS non-wildcard request-header name",
	// CORS-preflight fetch step 7.7).
	// Evidence: specs/preflight_test.go (Authorization under `*`); the
	// matrix's Authorization × `*` scenarios.
	// Only the fresh preflight: the cached `*` does not cover Authorization, so
	// the same request again sends a new preflight although Max-Age allows
	// reuse (matrix: headers=authorization allow-headers=* repeat=twice).
	AllowHeadersWildcardCoversAuthorization bool

	// AllowOriginBeforePreflightStatus: a preflight that fails both the CORS
	// check and the ok-status check is reported as an Allow-Origin problem
	// (Preflight…AllowOrigin…), and PreflightInvalidStatus appears only when the
	// CORS headers pass. The standard checks both together and names neither;
	// the Standard profile reports the status first.
	// Evidence: specs/preflight_test.go (a 404 preflight without Allow-Origin);
	// the matrix's preflight-status × Allow-Origin scenarios.
	AllowOriginBeforePreflightStatus bool

	// PreflightRedirectReported: a redirected preflight is reported as such
	// (PreflightDisallowedRedirect) before any other check. The standard
	// only says a redirect is not an ok status (PreflightInvalidStatus).
	// Evidence: specs/corserror_test.go (a 307 preflight); specs/engines_test.go
	// (a redirected preflight in every engine).
	PreflightRedirectReported bool

	// SafelistedClientHints are request-header names Chrome treats as
	// CORS-safelisted although the standard does not list them: client hints.
	// Evidence: the matrix's headers=dpr, device-memory and save-data
	// scenarios (DPR: 2, Device-Memory: 8, Save-Data: on) go out with no
	// preflight; other client hints were not measured and are not listed.
	SafelistedClientHints map[string]bool

	// RangeNotSafelisted: Range is never CORS-safelisted. Chrome 156 does
	// safelist `Range: bytes=0-10` like the standard (matrix headers=range), so
	// no profile sets it; it stays so a future Chrome can be described.
	RangeNotSafelisted bool

	// MethodMatchUpperCased: the preflight's method check upper-cases the
	// request's method. Chrome 156 compares byte for byte like the standard
	// (matrix: method=patch × allow-methods=case-changed is blocked), so no
	// profile sets it.
	MethodMatchUpperCased bool

	// BlameLastHeader: when several request headers are not allowed, Chrome's
	// failedParameter names the last of them in sorted order. Evidence: the
	// matrix's headers=custom+ct-json (X-Corslab, Content-Type: blames
	// x-corslab) and repeat=then-another-header (X-Corslab, Content-Type,
	// X-Second: blames x-second; Accept: text/"x", X-Second: blames x-second):
	// neither the order the page set them nor the first. The standard names no
	// header; the Standard profile blames the first of the sorted CORS-unsafe
	// request-header names it iterates.
	BlameLastHeader bool

	// UncachedFirstPreflights: the first this many preflights a tab sends to
	// a host that is an IP literal (http://127.0.0.1:PORT) are not reused:
	// the same request again sends its own; from the next one on the cache
	// works as the standard says. Preflights to a name are cached from the
	// first. The standard caches every passed preflight; the cause is not
	// known, and now and then (about 1 in 150 matrix scenarios) one of those
	// first preflights is reused after all: the model then predicts a
	// preflight and accepts a cache hit (Prediction.CacheMayHit). Evidence: specs/engines_test.go (a new tab's preflights to
	// 127.0.0.1, each sent twice); the matrix's repeat=twice scenarios.
	UncachedFirstPreflights int

	// MethodCheckedBeforeAllowHeaders: the request's method is checked
	// against Access-Control-Allow-Methods before Access-Control-Allow-Headers
	// is parsed, so a preflight with both a missing method and an
	// unparsable Allow-Headers is reported as MethodDisallowedByPreflightResponse.
	// The standard parses both lists first (step 7.3).
	// Evidence: the matrix's allow-headers-invalid × allow-methods=case-changed scenarios.
	MethodCheckedBeforeAllowHeaders bool

	// WildcardNotReused: a `*` in Access-Control-Allow-Methods or -Headers
	// lets the request through but is not reused from the preflight cache:
	// the same request again sends another preflight. The standard caches
	// `*` (a method or header-name cache entry of `*` matches a
	// non-credentialed request). Evidence: specs/engines_test.go (Allow-Headers
	// * sent twice); the matrix's allow-methods=* and allow-headers=*
	// scenarios with repeat=twice.
	WildcardNotReused bool

	// CacheKeyedByCredentials: a credentialed preflight's cache entry does not
	// serve a non-credentialed request (each credentials mode has its own).
	// The standard lets a credentialed entry serve both. Evidence: the
	// matrix's credentials=include repeat=then-uncredentialed scenarios.
	CacheKeyedByCredentials bool

	// CacheHitNotGuaranteed: a request the preflight cache covers usually
	// goes without a preflight, but now and then sends one anyway. Measured
	// in Firefox 153: 1 to 3 of 1500 matrix scenarios (different ones in
	// different runs), with every Max-Age and method; the cause is not known.
	CacheHitNotGuaranteed bool

	// CachesRefusedPreflight: a preflight that passes the CORS check but
	// refuses the request's method or a header is still stored, so a later
	// request its lists allow goes out without a preflight. The standard
	// stores a preflight only when every check passed (step 7.10).
	// Evidence: specs/engines_test.go (a refused DELETE, then a PUT the
	// preflight allowed); the matrix's repeat=then-* scenarios.
	CachesRefusedPreflight bool

	// UnparsableMaxAgeNotCached: an Access-Control-Max-Age that is not a
	// number (abc) stores nothing. The standard treats it as absent: 5 s.
	// Evidence: specs/engines_test.go (max-age abc, sent twice to a name).
	UnparsableMaxAgeNotCached bool

	// Reporting details where Chrome says more or less than the standard, not
	// deviations in behaviour: Chrome reports InvalidAllowMethods/-Headers
	// PreflightResponse with an empty failedParameter; both profiles predict that.
}

// Standard is the Fetch standard as written (fetch.spec.whatwg.org, 2026).
var Standard = Profile{Name: "fetch"}

// Chromium is Chromium 156 as corslab measured it (see each Profile field for the evidence).
var Chromium = Profile{
	Name:                                    "chromium",
	Engine:                                  verdict.Chromium,
	AllowHeadersWildcardCoversAuthorization: true,
	AllowOriginBeforePreflightStatus:        true,
	PreflightRedirectReported:               true,
	SafelistedClientHints:                   map[string]bool{"dpr": true, "device-memory": true, "save-data": true},
	BlameLastHeader:                         true,
}

// Firefox is Firefox ESR 153 as corslab measured it (see each Profile field for the evidence).
var Firefox = Profile{
	Name:                                    "firefox",
	Engine:                                  verdict.Firefox,
	AllowHeadersWildcardCoversAuthorization: true,
	MethodCheckedBeforeAllowHeaders:         true,
	AllowOriginBeforePreflightStatus:        true,
	PreflightRedirectReported:               true,
	UncachedFirstPreflights:                 3,
	WildcardNotReused:                       true,
	CacheKeyedByCredentials:                 true,
	CacheHitNotGuaranteed:                   true,
	UnparsableMaxAgeNotCached:               true,
}

// WebKit is WebKitGTK 2.50 (MiniBrowser) as corslab measured it (see each Profile field for the evidence).
var WebKit = Profile{
	Name:                                    "webkit",
	Engine:                                  verdict.WebKit,
	AllowHeadersWildcardCoversAuthorization: true,
	CachesRefusedPreflight:                  true,
}

// For returns the profile of engine e, and false when the model has none for it.
func For(e verdict.Engine) (Profile, bool) {
	for _, p := range []Profile{Chromium, Firefox, WebKit} {
		if p.Engine == e {
			return p, true
		}
	}
	return Profile{}, false
}

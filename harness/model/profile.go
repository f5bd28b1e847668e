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
	// Evidence: specs/corserror_test.go (a 307 preflight).
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

// For returns the profile of engine e, and false when the model has none for it.
func For(e verdict.Engine) (Profile, bool) {
	for _, p := range []Profile{Chromium} {
		if p.Engine == e {
			return p, true
		}
	}
	return Profile{}, false
}

package model

import (
	"net/url"
	"strings"

	"github.com/corslab/corslab/harness/verdict"
	"github.com/corslab/corslab/servers"
)

// Failure is a failed check: the common reason (verdict.Reason, which the
// model uses for every profile: the standard only says "network error") and
// the value the browser blames.
type Failure struct {
	Reason          verdict.Reason
	FailedParameter string
}

// headerValue implements "get" a header from a list (Fetch §2.2.2): the
// policy's lines joined with ", ", or absent (ok false) when there is none.
// Each line is what the browser parsed off the wire: a header value has no
// leading or trailing HTTP whitespace ("normalize", Fetch §2.2).
func headerValue(lines []string) (string, bool) {
	if len(lines) == 0 {
		return "", false
	}
	values := make([]string, len(lines))
	for i, l := range lines {
		values[i] = normalize(l)
	}
	return strings.Join(values, ", "), true
}

// normalize implements "normalize" a byte sequence (Fetch §2.2): strip leading
// and trailing HTTP whitespace bytes.
func normalize(v string) string { return strings.Trim(v, " \t\r\n") }

// allowOriginValues is the Access-Control-Allow-Origin lines the server sends
// for policy to a page on origin (servers.Echo stands for the request's Origin).
func allowOriginValues(p servers.Policy, origin string) []string {
	var out []string
	for _, v := range p.AllowOrigin {
		if v == servers.Echo {
			v = origin
		}
		out = append(out, v)
	}
	return out
}

// CORSCheck implements the "CORS check" (Fetch §4.9) of a response that
// carries acao (the Access-Control-Allow-Origin lines) and acac (the
// Access-Control-Allow-Credentials value, "" when absent) for a request from
// origin. It returns nil on success; on failure the reason names the step that
// failed, in the common vocabulary (Chromium's words).
func CORSCheck(origin string, acao []string, acac string, credentials bool) *Failure {
	// Step 1-2: "Let origin be the result of getting `Access-Control-Allow-Origin`
	// … If origin is null, then return failure."
	value, ok := headerValue(acao)
	if !ok {
		return &Failure{verdict.MissingAllowOriginHeader, ""}
	}
	// Step 3: "If request's credentials mode is not "include" and origin is `*`, then return success."
	if value == "*" {
		if !credentials {
			return nil
		}
		return &Failure{verdict.WildcardOriginNotAllowed, ""}
	}
	// Step 4: "If the result of byte-serializing a request origin with request is not origin, then return failure."
	if value != origin {
		switch {
		case strings.ContainsAny(value, " ,"):
			return &Failure{verdict.MultipleAllowOriginValues, value}
		case value == "null":
			return &Failure{verdict.AllowOriginMismatch, value}
		case !looksLikeURL(value):
			return &Failure{verdict.InvalidAllowOriginValue, value}
		}
		return &Failure{verdict.AllowOriginMismatch, value}
	}
	// Step 5: "If request's credentials mode is not "include", then return success."
	if !credentials {
		return nil
	}
	// Step 6-7: "Let credentials be the result of getting `Access-Control-Allow-Credentials`
	// … If credentials is `true`, then return success. Return failure."
	if acac = normalize(acac); acac == "true" {
		return nil
	}
	return &Failure{verdict.InvalidAllowCredentials, acac}
}

// looksLikeURL tells Chrome's two mismatch reasons apart: a value that parses
// as an absolute URL is a mismatch, anything else is an invalid value.
func looksLikeURL(v string) bool {
	u, err := url.Parse(v)
	return err == nil && u.Scheme != "" && v != ""
}

// ParseHeaderList implements "extracting header list values" (Fetch §2.2.2)
// for the token lists of Access-Control-Allow-Methods, -Allow-Headers and
// -Expose-Headers: split on commas, trim HTTP tab or space, skip empty
// elements (RFC 9110 §5.6.1 list rules), and fail unless every element is a
// token. present false (no header) gives nil, true: the standard's "null".
func ParseHeaderList(value string, present bool) ([]string, bool) {
	if !present {
		return nil, true
	}
	out := []string{}
	for _, v := range strings.Split(value, ",") {
		v = strings.Trim(v, " \t")
		if v == "" {
			continue
		}
		if !isToken(v) {
			return nil, false
		}
		out = append(out, v)
	}
	return out, true
}

// preflightChecks implements CORS-preflight fetch step 7 (Fetch §4.8): the
// preflight response pp must pass the CORS check with an ok status, and its
// Access-Control-Allow-Methods and -Allow-Headers must cover the request. It
// returns the lists it parsed (for the cache) or the first failure.
func (p Profile) preflightChecks(origin, method string, headers []servers.Header, credentials, uploadListener bool, pp servers.Policy) (methods, names []string, _ *Failure) {
	status := pp.PreflightStatus
	if status == 0 {
		status = 204
	}
	if pp.Redirect != nil {
		// CORS-preflight fetch never follows a redirect: its status is not ok.
		if p.PreflightRedirectReported {
			return nil, nil, &Failure{verdict.PreflightDisallowedRedirect, ""}
		}
		status = pp.Redirect.Status
	}
	okStatus := status >= 200 && status <= 299
	if !okStatus && !p.AllowOriginBeforePreflightStatus {
		return nil, nil, &Failure{verdict.PreflightInvalidStatus, ""}
	}
	// Step 7: "If a CORS check for request and response returns success and response's status is an ok status".
	if err := CORSCheck(origin, allowOriginValues(pp, origin), pp.AllowCredentials, credentials); err != nil {
		return nil, nil, &Failure{"Preflight" + err.Reason, err.FailedParameter}
	}
	if !okStatus {
		return nil, nil, &Failure{verdict.PreflightInvalidStatus, ""}
	}
	// Step 7.1-7.3: extract the methods and header names; failure is a network error.
	acam, hasACAM := headerValue(pp.AllowMethods)
	methods, ok := ParseHeaderList(acam, hasACAM)
	if !ok {
		return nil, nil, &Failure{verdict.InvalidAllowMethodsPreflightResponse, ""} // Chrome blames no value
	}
	// Step 7.4: "If methods is null and request's use-CORS-preflight flag is set,
	// then set methods to a new list containing request's method."
	if methods == nil && uploadListener {
		methods = []string{method}
	}
	if p.MethodCheckedBeforeAllowHeaders {
		if err := p.methodAllowed(method, methods, credentials); err != nil {
			return nil, nil, err
		}
	}
	acah, hasACAH := headerValue(pp.AllowHeaders)
	names, ok = ParseHeaderList(acah, hasACAH)
	if !ok {
		return nil, nil, &Failure{verdict.InvalidAllowHeadersPreflightResponse, ""}
	}
	// Steps 7.5-7.7. The lists come back with a refusal too: an engine that
	// caches refused preflights (Profile.CachesRefusedPreflight) stores them.
	if err := p.methodAllowed(method, methods, credentials); err != nil {
		return methods, names, err
	}
	if err := p.headersAllowed(headers, names, credentials); err != nil {
		return methods, names, err
	}
	return methods, names, nil
}

// methodAllowed implements CORS-preflight fetch step 7.5: "If request's method
// is not in methods, request's method is not a CORS-safelisted method, and
// request's credentials mode is "include" or methods does not contain `*`,
// return a network error."
func (p Profile) methodAllowed(method string, methods []string, credentials bool) *Failure {
	if IsSafelistedMethod(method) {
		return nil
	}
	want := method
	if p.MethodMatchUpperCased {
		want = strings.ToUpper(method)
	}
	for _, m := range methods {
		if m == want || m == "*" && !credentials {
			return nil
		}
	}
	return &Failure{verdict.MethodDisallowedByPreflightResponse, method}
}

// headersAllowed implements CORS-preflight fetch steps 7.6-7.7: Authorization
// (a "CORS non-wildcard request-header name") must be listed by name; every
// other CORS-unsafe request-header name must be listed (byte-case-insensitive)
// or covered by `*` on a non-credentialed request.
func (p Profile) headersAllowed(headers []servers.Header, names []string, credentials bool) *Failure {
	listed := map[string]bool{}
	for _, n := range names {
		listed[strings.ToLower(n)] = true
	}
	wildcard := listed["*"] && !credentials
	for _, h := range headers {
		n := strings.ToLower(h.Name)
		if n == "authorization" && !listed[n] && !(wildcard && p.AllowHeadersWildcardCoversAuthorization) {
			return &Failure{verdict.HeaderDisallowedByPreflightResponse, n}
		}
	}
	var blame *Failure
	for _, n := range p.unsafeRequestHeaderNames(headers) {
		if !listed[n] && !wildcard {
			if blame == nil || p.BlameLastHeader {
				blame = &Failure{verdict.HeaderDisallowedByPreflightResponse, n}
			}
		}
	}
	return blame
}

// safelistedResponseHeaders implements "CORS-safelisted response-header name" (Fetch §2.2.2).
var safelistedResponseHeaders = map[string]bool{
	"cache-control": true, "content-language": true, "content-length": true, "content-type": true,
	"expires": true, "last-modified": true, "pragma": true,
}

// ReadableResponseHeaders implements the "CORS filtered response" (Fetch
// §2.2.6) with its "CORS-exposed header-name list" (main fetch step 14): of
// the response header names given, those a page may read: the safelisted
// ones, those Access-Control-Expose-Headers lists, and every one for `*` on a
// non-credentialed request; Set-Cookie never. The names come back lower-cased,
// sorted and de-duplicated.
func ReadableResponseHeaders(names []string, exposeHeaders []string, credentials bool) []string {
	aceh, present := headerValue(exposeHeaders)
	exposed, ok := ParseHeaderList(aceh, present)
	if !ok {
		exposed = nil
	}
	list := map[string]bool{}
	for _, e := range exposed {
		list[strings.ToLower(e)] = true
	}
	var out []string
	for _, n := range names {
		n = strings.ToLower(n)
		if n == "set-cookie" || n == "set-cookie2" {
			continue
		}
		if safelistedResponseHeaders[n] || list[n] || list["*"] && !credentials {
			out = append(out, n)
		}
	}
	return sortedUnique(out)
}

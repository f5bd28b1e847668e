package lab

import (
	"strings"

	"github.com/corslab/corslab/harness"
)

// reasons say in plain words what each Chrome CorsError means; {param} is the
// failed parameter, {origin} the page origin.
var reasons = map[string]string{
	"MissingAllowOriginHeader":             "The response has no Access-Control-Allow-Origin header, so the browser hides it from the page. The server did run the request.",
	"AllowOriginMismatch":                  "Access-Control-Allow-Origin says “{param}”, which is not the page's origin {origin}. The match is exact: scheme, host and port, no trailing slash.",
	"MultipleAllowOriginValues":            "Access-Control-Allow-Origin carries more than one value; it must be exactly one origin or *.",
	"InvalidAllowOriginValue":              "Access-Control-Allow-Origin has the value “{param}”, which is not an origin.",
	"WildcardOriginNotAllowed":             "The request carries credentials and Access-Control-Allow-Origin is *: with credentials the server must name the origin itself.",
	"InvalidAllowCredentials":              "The request carries credentials, but the response does not say Access-Control-Allow-Credentials: true (it said “{param}”).",
	"PreflightMissingAllowOriginHeader":    "The preflight answer has no Access-Control-Allow-Origin header, so the browser never sends the request.",
	"PreflightAllowOriginMismatch":         "The preflight answer's Access-Control-Allow-Origin says “{param}”, not the page's origin {origin}, so the browser never sends the request.",
	"PreflightMultipleAllowOriginValues":   "The preflight answer's Access-Control-Allow-Origin carries more than one value.",
	"PreflightInvalidAllowOriginValue":     "The preflight answer's Access-Control-Allow-Origin has the value “{param}”, which is not an origin.",
	"PreflightWildcardOriginNotAllowed":    "The request carries credentials and the preflight answer's Access-Control-Allow-Origin is *: with credentials it must name the origin.",
	"PreflightInvalidAllowCredentials":     "The request carries credentials, but the preflight answer does not say Access-Control-Allow-Credentials: true, so the browser never sends the request.",
	"PreflightInvalidStatus":               "The preflight answer has the CORS headers but its status is not 2xx, so the browser never sends the request.",
	"PreflightDisallowedRedirect":          "The preflight answer is a redirect; a preflight may not be redirected.",
	"MethodDisallowedByPreflightResponse":  "The preflight answer's Access-Control-Allow-Methods does not list {param} (method names are case-sensitive), so the browser never sends the request.",
	"HeaderDisallowedByPreflightResponse":  "The preflight answer's Access-Control-Allow-Headers does not list the request header “{param}”, so the browser never sends the request.",
	"InvalidAllowMethodsPreflightResponse": "The preflight answer's Access-Control-Allow-Methods is not a valid list of methods.",
	"InvalidAllowHeadersPreflightResponse": "The preflight answer's Access-Control-Allow-Headers is not a valid list of header names.",
	"RedirectContainsCredentials":          "The request was redirected to a URL that contains a user name or password.",
	"DisallowedByMode":                     "The request's mode does not allow this cross-origin answer.",
	"CorsDisabledScheme":                   "The URL's scheme does not support CORS.",
	"InvalidResponse":                      "The response is not valid for CORS.",
}

// Reason says in plain words why r ended as it did.
func Reason(r harness.Result) string {
	b := r.Browser
	if b.CorsError != "" {
		if f, ok := reasons[b.CorsError]; ok {
			return strings.NewReplacer("{param}", b.FailedParameter, "{origin}", r.PageOrigin).Replace(f)
		}
		return "Chrome blocked the request for the reason " + b.CorsError + "; the lab has no plain-words text for it yet."
	}
	p := r.Page
	switch p.Event {
	case "load":
		switch {
		case p.ResponseType == "opaque":
			return "A no-cors fetch gets an opaque response: no CORS check, but the page can read nothing (status 0, no text)."
		case r.Preflighted():
			return "The preflight allowed the method and headers, and the response named the page's origin (or *), so the page can read it."
		case r.PreflightFromCache():
			return "The browser reused the cached preflight answer, sent the request at once, and the response allowed the page's origin."
		default:
			return "A simple request goes out at once; the response allowed the page's origin (or *), so the page can read it."
		}
	case "abort":
		return "The page aborted its own request; that is not a CORS error."
	case "timeout":
		return "The request took longer than the page's timeout; that is not a CORS error."
	case "unsupported":
		return "createCORSRequest found neither an XMLHttpRequest with withCredentials nor XDomainRequest, so it returned null."
	case "exception":
		return "The page's call threw before anything was sent: " + p.Error
	}
	if b.ErrorText != "" {
		return "A network failure (" + b.ErrorText + "), not a CORS error: the page cannot tell them apart, the browser can."
	}
	return "The page saw " + p.Event + "."
}

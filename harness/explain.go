package harness

import (
	"fmt"
	"strings"
)

// Explain says in plain words what the server would have to send for Chrome
// to let the page read the response, from the three views (Chrome's CorsError
// and the parameter it blamed, the headers on the wire, what the server
// received). It returns "" when the request was allowed.
func (r Result) Explain() string {
	b := r.Browser
	origin := r.PageOrigin
	cred := r.Request.Credentials
	acao := "Access-Control-Allow-Origin: " + origin
	if !cred {
		acao += " (or *)"
	}
	got := func(e *Exchange, h string) string {
		if e == nil {
			return ""
		}
		return e.ResponseHeaders[h]
	}
	switch b.CorsError {
	case "":
	case "MissingAllowOriginHeader":
		return fmt.Sprintf("the response to %s must carry %s; it carried no Access-Control-Allow-Origin", r.Request.method(), acao)
	case "PreflightMissingAllowOriginHeader":
		return fmt.Sprintf("the preflight (OPTIONS) response must carry %s; it carried none (a server that does not allow the method or a header often answers the preflight with no CORS headers at all: Chrome then blames the origin)", acao)
	case "AllowOriginMismatch", "PreflightAllowOriginMismatch":
		return fmt.Sprintf("%s must send Access-Control-Allow-Origin: %s exactly (scheme, host, port, no trailing slash); it sent %q", which(b.CorsError), origin, b.FailedParameter)
	case "MultipleAllowOriginValues", "PreflightMultipleAllowOriginValues":
		return fmt.Sprintf("%s must send one Access-Control-Allow-Origin value, %s; it sent %q", which(b.CorsError), origin, b.FailedParameter)
	case "InvalidAllowOriginValue", "PreflightInvalidAllowOriginValue":
		return fmt.Sprintf("%s must send Access-Control-Allow-Origin: %s; %q is not an origin", which(b.CorsError), origin, b.FailedParameter)
	case "WildcardOriginNotAllowed", "PreflightWildcardOriginNotAllowed":
		return fmt.Sprintf("the request carries credentials, so %s must send Access-Control-Allow-Origin: %s (the exact origin, not *) and Access-Control-Allow-Credentials: true", which(b.CorsError), origin)
	case "InvalidAllowCredentials", "PreflightInvalidAllowCredentials":
		return fmt.Sprintf("the request carries credentials, so %s must send Access-Control-Allow-Credentials: true; it sent %q", which(b.CorsError), b.FailedParameter)
	case "PreflightInvalidStatus":
		return fmt.Sprintf("the preflight (OPTIONS) must be answered with a 2xx status; it was answered %d", statusOf(b.Preflight))
	case "MethodDisallowedByPreflightResponse":
		return fmt.Sprintf("the preflight response must list %s in Access-Control-Allow-Methods (method names are case-sensitive); it sent %q", b.FailedParameter, got(b.Preflight, "access-control-allow-methods"))
	case "HeaderDisallowedByPreflightResponse":
		return fmt.Sprintf("the preflight response must list %s in Access-Control-Allow-Headers; it sent %q", b.FailedParameter, got(b.Preflight, "access-control-allow-headers"))
	case "LocalNetworkAccessPermissionDenied", "PreflightMissingAllowPrivateNetwork", "PrivateNetworkAccessPermissionDenied":
		return "Chrome's Local Network Access check stopped it: the page is in a more public address space than the server; no CORS header fixes that, the page needs the local-network permission"
	case "InvalidResponse":
		return "the response was not a valid HTTP response for CORS (e.g. the preflight redirected)"
	default:
		s := "Chrome blocked it with " + b.CorsError
		if b.FailedParameter != "" {
			s += " (" + b.FailedParameter + ")"
		}
		return s + "; see https://developer.chrome.com/docs/devtools/network/reference#cors for this reason"
	}
	if b.CorsError != "" {
		return ""
	}
	switch {
	case r.Page.Event == "load":
		return ""
	case b.ErrorText != "" && b.ErrorText != "net::ERR_FAILED":
		return fmt.Sprintf("no CORS header would help: the request failed on the network (%s); the server must be reachable at %s", b.ErrorText, r.URL)
	case r.Page.Event == "abort" || r.Page.Event == "timeout":
		return "the page ended the request itself (" + r.Page.Event + "), before the server answered"
	}
	return "the page saw on" + r.Page.Event + " without a CORS error from Chrome"
}

// which names the response a CorsError is about.
func which(corsError string) string {
	if strings.HasPrefix(corsError, "Preflight") {
		return "the preflight (OPTIONS) response"
	}
	return "the response"
}

func statusOf(e *Exchange) int {
	if e == nil {
		return 0
	}
	return e.Status
}

package verdict

import (
	"slices"
	"strconv"
	"strings"
)

// Reason is a common reason for a CORS block, one vocabulary for every
// engine. The names are Chromium's CorsError values (the finest-grained
// public list); each engine package maps its own words (Firefox's console
// category, WebKit's console message) onto them and keeps its own words next
// to them in the Result.
type Reason string

// The reasons: every CorsError Chromium 156 reports (cdproto's
// network.CorsError), and Other for a block no engine names.
const (
	DisallowedByMode                     Reason = "DisallowedByMode"
	InvalidResponse                      Reason = "InvalidResponse"
	WildcardOriginNotAllowed             Reason = "WildcardOriginNotAllowed"
	MissingAllowOriginHeader             Reason = "MissingAllowOriginHeader"
	MultipleAllowOriginValues            Reason = "MultipleAllowOriginValues"
	InvalidAllowOriginValue              Reason = "InvalidAllowOriginValue"
	AllowOriginMismatch                  Reason = "AllowOriginMismatch"
	InvalidAllowCredentials              Reason = "InvalidAllowCredentials"
	CorsDisabledScheme                   Reason = "CorsDisabledScheme"
	PreflightInvalidStatus               Reason = "PreflightInvalidStatus"
	PreflightDisallowedRedirect          Reason = "PreflightDisallowedRedirect"
	PreflightWildcardOriginNotAllowed    Reason = "PreflightWildcardOriginNotAllowed"
	PreflightMissingAllowOriginHeader    Reason = "PreflightMissingAllowOriginHeader"
	PreflightMultipleAllowOriginValues   Reason = "PreflightMultipleAllowOriginValues"
	PreflightInvalidAllowOriginValue     Reason = "PreflightInvalidAllowOriginValue"
	PreflightAllowOriginMismatch         Reason = "PreflightAllowOriginMismatch"
	PreflightInvalidAllowCredentials     Reason = "PreflightInvalidAllowCredentials"
	PreflightMissingAllowExternal        Reason = "PreflightMissingAllowExternal"
	PreflightInvalidAllowExternal        Reason = "PreflightInvalidAllowExternal"
	InvalidAllowMethodsPreflightResponse Reason = "InvalidAllowMethodsPreflightResponse"
	InvalidAllowHeadersPreflightResponse Reason = "InvalidAllowHeadersPreflightResponse"
	MethodDisallowedByPreflightResponse  Reason = "MethodDisallowedByPreflightResponse"
	HeaderDisallowedByPreflightResponse  Reason = "HeaderDisallowedByPreflightResponse"
	RedirectContainsCredentials          Reason = "RedirectContainsCredentials"
	InsecureLocalNetwork                 Reason = "InsecureLocalNetwork"
	InvalidLocalNetworkAccess            Reason = "InvalidLocalNetworkAccess"
	NoCorsRedirectModeNotFollow          Reason = "NoCorsRedirectModeNotFollow"
	LocalNetworkAccessPermissionDenied   Reason = "LocalNetworkAccessPermissionDenied"
	// Other is a block the engine reported in words corslab cannot map to a
	// common reason; the engine's own words are in the Result.
	Other Reason = "Other"
)

// Coarse reasons: an engine whose words name only a family of failures
// reports one of these; the harness narrows it to the member the response
// shows (see Covers), and keeps the engine's words beside it.
const (
	// AllowOriginRejected: Access-Control-Allow-Origin did not allow the page
	// (missing, another origin, not an origin, or several values).
	AllowOriginRejected Reason = "AllowOriginRejected"
	// PreflightAllowOriginRejected is AllowOriginRejected on the preflight's answer.
	PreflightAllowOriginRejected Reason = "PreflightAllowOriginRejected"
)

// Covers lists the reasons a coarse reason stands for; nil for one that is not coarse.
func (r Reason) Covers() []Reason {
	switch r {
	case AllowOriginRejected:
		return []Reason{MissingAllowOriginHeader, AllowOriginMismatch, InvalidAllowOriginValue, MultipleAllowOriginValues}
	case PreflightAllowOriginRejected:
		return []Reason{PreflightMissingAllowOriginHeader, PreflightAllowOriginMismatch, PreflightInvalidAllowOriginValue, PreflightMultipleAllowOriginValues}
	}
	return nil
}

// Info is what one reason means and what the server would have to send.
// Means and Fix are templates: {origin} is the page origin, {param} the value
// the browser blamed, {acao} the Access-Control-Allow-Origin line the server
// must send (the origin, "or *" without credentials), {sent} the value of
// Header on the response the reason is about ("" when it carried none),
// {status} that response's status.
type Info struct {
	Reason Reason
	// Preflight is true when the reason is about the preflight's response:
	// the actual request was never sent.
	Preflight bool
	// Header is the response header the reason is about ("" for none).
	Header string
	// Means says in plain words what happened.
	Means string
	// Fix says what the server would have to send for the page to read the response.
	Fix string
}

// reasons is the one table of reasons; Lookup and All read it.
var reasons = []Info{
	{Reason: MissingAllowOriginHeader, Header: "Access-Control-Allow-Origin",
		Means: "The response has no Access-Control-Allow-Origin header, so the browser hides it from the page. The server did run the request.",
		Fix:   "the response must carry {acao}; it carried no Access-Control-Allow-Origin"},
	{Reason: AllowOriginMismatch, Header: "Access-Control-Allow-Origin",
		Means: "Access-Control-Allow-Origin says “{param}”, which is not the page's origin {origin}. The match is exact: scheme, host and port, no trailing slash.",
		Fix:   "the response must send Access-Control-Allow-Origin: {origin} exactly (scheme, host, port, no trailing slash); it sent “{param}”"},
	{Reason: MultipleAllowOriginValues, Header: "Access-Control-Allow-Origin",
		Means: "Access-Control-Allow-Origin carries more than one value; it must be exactly one origin or *.",
		Fix:   "the response must send one Access-Control-Allow-Origin value, {origin}; it sent “{sent}”"},
	{Reason: InvalidAllowOriginValue, Header: "Access-Control-Allow-Origin",
		Means: "Access-Control-Allow-Origin has the value “{param}”, which is not an origin.",
		Fix:   "the response must send {acao}; “{param}” is not an origin"},
	{Reason: WildcardOriginNotAllowed, Header: "Access-Control-Allow-Origin",
		Means: "The request carries credentials and Access-Control-Allow-Origin is *: with credentials the server must name the origin itself.",
		Fix:   "the request carries credentials, so the response must send Access-Control-Allow-Origin: {origin} (the exact origin; * is not allowed with credentials) and Access-Control-Allow-Credentials: true"},
	{Reason: InvalidAllowCredentials, Header: "Access-Control-Allow-Credentials",
		Means: "The request carries credentials, but the response does not say Access-Control-Allow-Credentials: true (it said “{sent}”).",
		Fix:   "the request carries credentials, so the response must send Access-Control-Allow-Credentials: true (exactly, lower-case); it sent “{sent}”"},
	{Reason: PreflightMissingAllowOriginHeader, Preflight: true, Header: "Access-Control-Allow-Origin",
		Means: "The preflight answer has no Access-Control-Allow-Origin header, so the browser never sends the request.",
		Fix:   "the preflight (OPTIONS) response must carry {acao}; it carried none (a server that does not allow the method or a header often answers the preflight with no CORS headers at all: the browser then blames the origin)"},
	{Reason: PreflightAllowOriginMismatch, Preflight: true, Header: "Access-Control-Allow-Origin",
		Means: "The preflight answer's Access-Control-Allow-Origin says “{param}”, not the page's origin {origin}, so the browser never sends the request.",
		Fix:   "the preflight (OPTIONS) response must send Access-Control-Allow-Origin: {origin} exactly (scheme, host, port, no trailing slash); it sent “{param}”"},
	{Reason: PreflightMultipleAllowOriginValues, Preflight: true, Header: "Access-Control-Allow-Origin",
		Means: "The preflight answer's Access-Control-Allow-Origin carries more than one value.",
		Fix:   "the preflight (OPTIONS) response must send one Access-Control-Allow-Origin value, {origin}; it sent “{sent}”"},
	{Reason: PreflightInvalidAllowOriginValue, Preflight: true, Header: "Access-Control-Allow-Origin",
		Means: "The preflight answer's Access-Control-Allow-Origin has the value “{param}”, which is not an origin.",
		Fix:   "the preflight (OPTIONS) response must send {acao}; “{param}” is not an origin"},
	{Reason: PreflightWildcardOriginNotAllowed, Preflight: true, Header: "Access-Control-Allow-Origin",
		Means: "The request carries credentials and the preflight answer's Access-Control-Allow-Origin is *: with credentials it must name the origin.",
		Fix:   "the request carries credentials, so the preflight (OPTIONS) response must send Access-Control-Allow-Origin: {origin} (not *) and Access-Control-Allow-Credentials: true"},
	{Reason: PreflightInvalidAllowCredentials, Preflight: true, Header: "Access-Control-Allow-Credentials",
		Means: "The request carries credentials, but the preflight answer does not say Access-Control-Allow-Credentials: true, so the browser never sends the request.",
		Fix:   "the request carries credentials, so the preflight (OPTIONS) response must send Access-Control-Allow-Credentials: true too; it sent “{sent}”"},
	{Reason: PreflightInvalidStatus, Preflight: true,
		Means: "The preflight answer has the CORS headers but its status is not 2xx, so the browser never sends the request.",
		Fix:   "the preflight (OPTIONS) must be answered with a 2xx status; it was answered {status}"},
	{Reason: PreflightDisallowedRedirect, Preflight: true, Header: "Location",
		Means: "The preflight answer is a redirect; a browser never follows a redirect for a preflight.",
		Fix:   "the preflight (OPTIONS) must be answered directly with a 2xx status, not redirected (it was answered {status})"},
	{Reason: MethodDisallowedByPreflightResponse, Preflight: true, Header: "Access-Control-Allow-Methods",
		Means: "The preflight answer's Access-Control-Allow-Methods does not list {param} (method names are case-sensitive), so the browser never sends the request.",
		Fix:   "the preflight response must list {param} in Access-Control-Allow-Methods (method names are case-sensitive; with credentials * is a literal method name, not a wildcard); it sent “{sent}”"},
	{Reason: HeaderDisallowedByPreflightResponse, Preflight: true, Header: "Access-Control-Allow-Headers",
		Means: "The preflight answer's Access-Control-Allow-Headers does not list the request header “{param}”, so the browser never sends the request.",
		Fix:   "the preflight response must list {param} in Access-Control-Allow-Headers (with credentials * is a literal header name, not a wildcard; the Fetch standard never lets * cover Authorization); it sent “{sent}”"},
	{Reason: InvalidAllowMethodsPreflightResponse, Preflight: true, Header: "Access-Control-Allow-Methods",
		Means: "The preflight answer's Access-Control-Allow-Methods is not a valid comma-separated list of method names.",
		Fix:   "the preflight response's Access-Control-Allow-Methods must be a comma-separated list of method names (tokens, no ';', quotes or spaces inside a name); it sent “{sent}”"},
	{Reason: InvalidAllowHeadersPreflightResponse, Preflight: true, Header: "Access-Control-Allow-Headers",
		Means: "The preflight answer's Access-Control-Allow-Headers is not a valid comma-separated list of header names.",
		Fix:   "the preflight response's Access-Control-Allow-Headers must be a comma-separated list of header names (tokens, no ';', quotes or spaces inside a name); it sent “{sent}”"},
	{Reason: RedirectContainsCredentials, Header: "Location",
		Means: "The request was redirected to a URL that carries a user name or password (user:password@host); a CORS request may not follow it.",
		Fix:   "the redirect's Location must not carry a user name or password; it sent “{sent}”"},
	{Reason: DisallowedByMode,
		Means: "The request's mode (fetch's mode: \"same-origin\") does not allow a cross-origin answer.",
		Fix:   "no server header helps: a same-origin request cannot go to another origin; the page must use mode \"cors\""},
	{Reason: CorsDisabledScheme,
		Means: "The URL's scheme does not support CORS (only http and https do).",
		Fix:   "no server header helps: the request must go to an http or https URL"},
	{Reason: InvalidResponse,
		Means: "The response is not valid for CORS (for example a redirect the request cannot follow).",
		Fix:   "the server must answer with a valid HTTP response that carries {acao}"},
	{Reason: NoCorsRedirectModeNotFollow,
		Means: "A no-cors request with fetch's redirect \"manual\" or \"error\" met a redirect.",
		Fix:   "no server header helps: a no-cors request must follow redirects (redirect: \"follow\") or not be redirected"},
	{Reason: LocalNetworkAccessPermissionDenied,
		Means: "Chromium's Local Network Access check stopped it: the page is in a more public address space than the server and has no permission to reach it.",
		Fix:   "no CORS header fixes it: the page is in a more public address space than the server; the page needs the local-network permission (loopback-network for a loopback server)"},
	{Reason: InsecureLocalNetwork,
		Means: "A page that is not a secure context asked to reach a more private address space; Local Network Access requires a secure (https) page.",
		Fix:   "no CORS header fixes it: serve the page over https to let it reach a local network address"},
	{Reason: InvalidLocalNetworkAccess,
		Means: "The request's targetAddressSpace does not match the address space the server was found in.",
		Fix:   "no CORS header fixes it: the page's fetch must name the server's real address space in targetAddressSpace"},
	{Reason: PreflightMissingAllowExternal, Preflight: true, Header: "Access-Control-Allow-Private-Network",
		Means: "The preflight for a request to a more private address space did not carry Access-Control-Allow-Private-Network: true (Private Network Access).",
		Fix:   "the preflight (OPTIONS) response must send Access-Control-Allow-Private-Network: true; it sent “{sent}”"},
	{Reason: PreflightInvalidAllowExternal, Preflight: true, Header: "Access-Control-Allow-Private-Network",
		Means: "The preflight's Access-Control-Allow-Private-Network is not “true”.",
		Fix:   "the preflight (OPTIONS) response must send Access-Control-Allow-Private-Network: true exactly; it sent “{sent}”"},
	{Reason: AllowOriginRejected, Header: "Access-Control-Allow-Origin",
		Means: "Access-Control-Allow-Origin did not allow the page's origin {origin} (the browser does not say whether it was missing, another origin, or not an origin).",
		Fix:   "the response must carry {acao}, exactly; it sent “{sent}”"},
	{Reason: PreflightAllowOriginRejected, Preflight: true, Header: "Access-Control-Allow-Origin",
		Means: "The preflight answer's Access-Control-Allow-Origin did not allow the page's origin {origin}, so the browser never sends the request.",
		Fix:   "the preflight (OPTIONS) response must carry {acao}, exactly; it sent “{sent}”"},
	{Reason: Other,
		Means: "The browser blocked the request for a reason corslab has no common name for: {param}",
		Fix:   "read the browser's own words in the transcript: {param}"},
}

// Lookup returns the table's row for r; ok is false for a reason the table lacks.
func Lookup(r Reason) (Info, bool) {
	i := slices.IndexFunc(reasons, func(in Info) bool { return in.Reason == r })
	if i < 0 {
		return Info{}, false
	}
	return reasons[i], true
}

// All returns every row of the table, in its order.
func All() []Info { return slices.Clone(reasons) }

// Known reports whether r is in the table.
func (r Reason) Known() bool {
	_, ok := Lookup(r)
	return ok
}

// Words are the facts a reason's templates are filled with.
type Words struct {
	Origin      string // the page origin
	Parameter   string // the value the browser blamed
	Credentials bool   // the request carried credentials
	Sent        string // the value of the reason's Header on the response it is about
	Status      int    // that response's status
}

// Meaning is what r means, in plain words, for these facts.
func (r Reason) Meaning(w Words) string {
	in, ok := Lookup(r)
	if !ok {
		return "The browser blocked the request (" + string(r) + ")."
	}
	return w.fill(in.Means)
}

// Remedy is what the server would have to send, for these facts.
func (r Reason) Remedy(w Words) string {
	in, ok := Lookup(r)
	if !ok {
		return "the browser blocked it with " + string(r)
	}
	return w.fill(in.Fix)
}

func (w Words) fill(t string) string {
	acao := "Access-Control-Allow-Origin: " + w.Origin
	if !w.Credentials {
		acao += " (or *)"
	}
	status := "with no status"
	if w.Status > 0 {
		status = strconv.Itoa(w.Status)
	}
	return strings.NewReplacer("{origin}", w.Origin, "{param}", w.Parameter, "{acao}", acao,
		"{sent}", w.Sent, "{status}", status).Replace(t)
}

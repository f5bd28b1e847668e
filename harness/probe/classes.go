package probe

import (
	"fmt"
	"slices"
	"strings"
)

// Class names a kind of CORS hole probe looks for.
type Class string

// The classes, in the order reports list them.
const (
	// ReflectedOrigin: an arbitrary origin is named in Access-Control-Allow-Origin.
	ReflectedOrigin Class = "reflected-origin"
	// NullOrigin: Origin null (a sandboxed page, a data: URL) is allowed.
	NullOrigin Class = "null-origin"
	// PrefixMatch: the trusted origin as a prefix of the attacker's host is allowed.
	PrefixMatch Class = "prefix-match"
	// SuffixMatch: another registrable domain ending in the trusted one is allowed.
	SuffixMatch Class = "suffix-match"
	// UnescapedDot: a dot of the trusted host matched as any character (a regular expression).
	UnescapedDot Class = "unescaped-dot"
	// SubstringMatch: any origin containing the trusted host is allowed.
	SubstringMatch Class = "substring-match"
	// HTTPOriginTrusted: the plain-http twin of an https trusted origin is allowed.
	HTTPOriginTrusted Class = "http-origin-trusted"
	// AnySubdomain: sibling and nested subdomains of the trusted site are allowed.
	AnySubdomain Class = "any-subdomain"
	// ThirdPartyOrigin: a host where anyone can publish pages is allowed.
	ThirdPartyOrigin Class = "third-party-origin"
	// Wildcard: the answer is Access-Control-Allow-Origin: *.
	Wildcard Class = "wildcard"
	// InvalidAllowOrigin: Access-Control-Allow-Origin is malformed or has several values.
	InvalidAllowOrigin Class = "invalid-allow-origin"
	// ExecutedDespiteBlock: the browser refused the page the answer, but the server ran the request.
	ExecutedDespiteBlock Class = "executed-despite-block"
	// MissingVaryOrigin: a reflected origin without Vary: Origin.
	MissingVaryOrigin Class = "missing-vary-origin"
)

// ClassInfo says what a class means, with an example and the fix.
type ClassInfo struct {
	Class   Class
	Means   string // one sentence
	Example string // one line: the attacker origin or the answer that shows it
	Fix     string // one sentence
}

// Classes lists every class with what it means, in report order.
var Classes = []ClassInfo{
	{ReflectedOrigin, "the server names any origin it is sent in Access-Control-Allow-Origin, so any page can read the answer",
		"Origin: https://evil.test → Access-Control-Allow-Origin: https://evil.test",
		"compare the Origin with an exact list of the origins you trust; never echo it unchecked"},
	{NullOrigin, "the server allows Origin: null, which any page can send from a sandboxed iframe or a data: URL",
		"a sandboxed page (Origin: null) → Access-Control-Allow-Origin: null",
		"never allow null; the pages you trust have real origins"},
	{PrefixMatch, "the server accepts any origin that starts with the trusted one, so the attacker's own domain can start with it",
		"https://app.example.com.evil.test is allowed",
		"compare the whole origin, not its beginning"},
	{SuffixMatch, "the server accepts any origin that ends with the trusted registrable domain, so an attacker registers a name ending with it",
		"https://evilexample.com is allowed",
		"compare the whole host, or check for a dot before the domain (\".example.com\")"},
	{UnescapedDot, "a regular expression leaves a dot of the trusted host unescaped, so it matches a look-alike domain anyone can register",
		"https://appxexample.com is allowed by ^https://app.example.com$",
		`escape the dots (^https://app\.example\.com$), or compare strings instead of matching patterns`},
	{SubstringMatch, "the server accepts any origin that contains the trusted host anywhere",
		"https://evilapp.example.com.evil.test is allowed",
		"compare the whole origin, not a substring"},
	{HTTPOriginTrusted, "the server trusts the plain-http twin of its https origin, whose pages a network attacker can forge",
		"http://app.example.com is allowed for an https://app.example.com policy",
		"compare the scheme too: trust https:// origins only"},
	{AnySubdomain, "the server trusts every subdomain of the trusted site, so one subdomain taken over or with an XSS reads the API",
		"https://evil.example.com and https://evil.app.example.com are allowed",
		"list the subdomains you trust, not a pattern"},
	{ThirdPartyOrigin, "the server trusts a host where anyone can publish pages (code playgrounds, static hosting)",
		"https://corslab-attacker.github.io or https://codepen.io is allowed",
		"remove development and hosting origins from the production allow-list"},
	{Wildcard, "the server answers Access-Control-Allow-Origin: * to the attacker: any page reads the answer (without cookies)",
		"Origin: https://evil.test → Access-Control-Allow-Origin: *",
		"send * only for public data; name the trusted origins for anything else"},
	{InvalidAllowOrigin, "Access-Control-Allow-Origin is malformed or has several values, which browsers refuse (or, worse, one accepts)",
		"Access-Control-Allow-Origin: https://app.example.com, https://app.example.com",
		"send exactly one origin (or *), set by one layer only"},
	{ExecutedDespiteBlock, "the browser refused the attacker's page the answer, but the server had already run the request: CORS protects the reader, not the server",
		"a cross-site POST text/plain is blocked (MissingAllowOriginHeader) yet the application ran",
		"refuse state-changing requests from untrusted origins on the server (check Origin, use CSRF tokens or a preflighted content type)"},
	{MissingVaryOrigin, "the answer names the page's origin without Vary: Origin, so a cache may serve one origin's answer to another",
		"Access-Control-Allow-Origin: https://app.example.com with no Vary header",
		"send Vary: Origin with every answer whose CORS headers depend on the Origin"},
}

// Info returns the class's entry of Classes.
func (c Class) Info() ClassInfo {
	for _, i := range Classes {
		if i.Class == c {
			return i
		}
	}
	return ClassInfo{Class: c}
}

// ParseClasses reads a comma-separated list of class names; "" or "all" is every class.
func ParseClasses(list string) ([]Class, error) {
	var out []Class
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if f == "all" {
			return allClasses(), nil
		}
		c := Class(f)
		if c.Info().Means == "" {
			return nil, fmt.Errorf("unknown class %q: want one of %s", f, strings.Join(classNames(), ", "))
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return allClasses(), nil
	}
	return out, nil
}

func allClasses() []Class {
	out := make([]Class, len(Classes))
	for i, c := range Classes {
		out[i] = c.Class
	}
	return out
}

func classNames() []string {
	out := make([]string, len(Classes))
	for i, c := range Classes {
		out[i] = string(c.Class)
	}
	return out
}

// originClass reports whether findings of c are about who may read (an
// attacker origin of its own), as opposed to a property of the answer.
func (c Class) originClass() bool {
	switch c {
	case Wildcard, InvalidAllowOrigin, ExecutedDespiteBlock, MissingVaryOrigin:
		return false
	}
	return true
}

// Severity is how bad a finding is: high, medium or low.
type Severity string

// The severities.
const (
	High   Severity = "high"
	Medium Severity = "medium"
	Low    Severity = "low"
)

// Rank orders severities: high 3, medium 2, low 1, anything else 0.
func (s Severity) Rank() int {
	switch s {
	case High:
		return 3
	case Medium:
		return 2
	case Low:
		return 1
	}
	return 0
}

// ParseFailOn reads a --fail-on value: low, medium, high, or none (never fail).
func ParseFailOn(s string) (Severity, error) {
	switch v := Severity(strings.ToLower(strings.TrimSpace(s))); v {
	case High, Medium, Low:
		return v, nil
	case "none":
		return "none", nil
	}
	return "", fmt.Errorf("want low, medium, high or none")
}

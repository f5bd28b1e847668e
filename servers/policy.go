package servers

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Echo is the AllowOrigin value that sends back the request's own Origin header.
const Echo = "$origin"

// Policy is what the API origin answers, to the preflight and to the actual request.
//
// Every header field is a list of header lines: nil sends no header at all,
// []string{""} sends the header with an empty value, and two elements send the
// header twice. Values are sent verbatim, so a policy can reach the malformed
// answers real servers give (a trailing slash, a list of origins, "True").
// Values may not contain CR, LF or NUL: header injection is impossible by construction.
type Policy struct {
	// AllowOrigin is Access-Control-Allow-Origin. Echo sends the request's Origin
	// (nothing when it has none); "*", "null" and exact origins are sent as written.
	AllowOrigin []string
	// AllowMethods is Access-Control-Allow-Methods, sent on the preflight only.
	AllowMethods []string
	// AllowHeaders is Access-Control-Allow-Headers, sent on the preflight only.
	AllowHeaders []string
	// ExposeHeaders is Access-Control-Expose-Headers, sent on the actual response only.
	ExposeHeaders []string
	// AllowCredentials is Access-Control-Allow-Credentials: "" sends none, any
	// other value (the only one the browser accepts is "true") is sent as written.
	AllowCredentials string
	// MaxAge is Access-Control-Max-Age on the preflight: "" sends none (Chrome then
	// caches for 5 s), "0" disables caching; anything else that is not a whole
	// number of seconds is rejected unless MaxAgeRaw is set.
	MaxAge string
	// MaxAgeRaw sends MaxAge even when it is not a number, to test garbage values on purpose.
	MaxAgeRaw bool
	// Status is the actual response's status code; 0 means 200.
	Status int
	// PreflightStatus is the preflight response's status code; 0 means 204.
	PreflightStatus int
	// Headers are extra response headers, sent on both responses.
	Headers []Header
	// SetCookie lines are sent on the actual response. A cookie with no Path
	// attribute gets Path=/cors/<token>, so it never reaches another scenario.
	SetCookie []string
	// Body is the actual response body; "" means the default text "corslab: ok".
	Body string
	// Stall holds the answer back, for timeouts and abort(): StallHeaders sends
	// the headers and the first bytes of the body (Chrome shows a page no
	// headers before some body arrives), then holds the rest; StallResponse sends nothing. A stalled
	// answer ends when the client goes away or the server closes.
	Stall string
	// Preflight, when set, answers the preflight instead of this policy, so a
	// preflight and its actual request can be answered differently.
	Preflight *Policy
	// Redirect, when set, answers with a redirect (after the CORS headers
	// above) to one of corslab's own origins instead of the response.
	Redirect *Redirect
	// NoBody sends the actual response with no body at all (an empty body,
	// where Body "" sends the default text).
	NoBody bool
	// RawHeaders are response headers written to the connection exactly as
	// given, on both answers: leading or trailing spaces and tabs and NUL
	// bytes included (only CR and LF are refused), so the browser's own
	// trimming and parsing are what is tested. Go's server would clean them;
	// with RawHeaders the API writes the whole response itself.
	RawHeaders []Header
	// Later, when set, answers this URL's LaterFrom-th request and every one
	// after it (preflights count) instead of this policy: an answer that
	// changes between requests, e.g. to replace a preflight cache entry.
	Later *Policy
	// LaterFrom is the 1-based number of the first request Later answers; 0 means 2.
	LaterFrom int
}

// Header is one HTTP header line.
type Header struct {
	Name  string
	Value string
}

// ParseHeader reads one "Name:Value" header line, the way a Policy's URL
// encoding carries its Headers (spaces after the colon are dropped).
func ParseHeader(s string) (Header, error) {
	n, val, ok := strings.Cut(s, ":")
	if !ok {
		return Header{}, fmt.Errorf("%q is not Name:Value", s)
	}
	return Header{Name: n, Value: strings.TrimLeft(val, " ")}, nil
}

// The values of Policy.Stall.
const (
	StallHeaders  = "headers"
	StallResponse = "response"
	// StallClose never answers: the server closes the connection (a network
	// failure, not CORS, that looks the same to the page).
	StallClose = "close"
)

// DefaultBody is the actual response's body when Policy.Body is empty.
const DefaultBody = "corslab: ok"

// PolicyFields is Policy's field table: the URL query the API origin reads,
// the lab's share link and form, and the YAML keys of an expectations file
// all derive from it.
var PolicyFields = Table[Policy]{
	{Key: "allow-origin", Go: "AllowOrigin", Label: "Access-Control-Allow-Origin",
		Help: "One header line per row ($origin echoes the page's Origin; (empty) sends an empty value). Empty: no header.",
		At:   func(p *Policy, _ bool) any { return &p.AllowOrigin }},
	{Key: "allow-credentials", Go: "AllowCredentials", Label: "Access-Control-Allow-Credentials",
		Help: "\"true\" is the only value a browser accepts. Empty: no header.",
		At:   func(p *Policy, _ bool) any { return &p.AllowCredentials }},
	{Key: "allow-methods", Go: "AllowMethods", Label: "Access-Control-Allow-Methods", On: "preflight",
		Help: "Sent on the preflight only.",
		At:   func(p *Policy, _ bool) any { return &p.AllowMethods }},
	{Key: "allow-headers", Go: "AllowHeaders", Label: "Access-Control-Allow-Headers", On: "preflight",
		Help: "Sent on the preflight only.",
		At:   func(p *Policy, _ bool) any { return &p.AllowHeaders }},
	{Key: "max-age", Go: "MaxAge", Label: "Access-Control-Max-Age", On: "preflight",
		Help: "Seconds, preflight only. Empty: no header (browsers then cache about 5 s); 0: no caching; Chromium caps it at 7200.",
		At:   func(p *Policy, _ bool) any { return &p.MaxAge }},
	{Key: "max-age-raw", Go: "MaxAgeRaw", Label: "Send Max-Age even if it is not a number", On: "preflight",
		At: func(p *Policy, _ bool) any { return &p.MaxAgeRaw }},
	{Key: "expose-headers", Go: "ExposeHeaders", Label: "Access-Control-Expose-Headers", On: "actual",
		Help: "Sent on the actual answer only.",
		At:   func(p *Policy, _ bool) any { return &p.ExposeHeaders }},
	{Key: "status", Go: "Status", Label: "Status of the actual answer", On: "actual",
		Help: "Empty: 200.",
		At:   func(p *Policy, _ bool) any { return &p.Status }},
	{Key: "preflight-status", Go: "PreflightStatus", Label: "Status of the preflight answer", On: "preflight",
		Help: "Empty: 204.",
		At:   func(p *Policy, _ bool) any { return &p.PreflightStatus }},
	{Key: "header", Go: "Headers", Label: "Other response headers",
		Help: "One Name: value per line, sent on both answers (e.g. X-Custom: 1).",
		At:   func(p *Policy, _ bool) any { return &p.Headers }},
	{Key: "set-cookie", Go: "SetCookie", Label: "Set-Cookie", On: "actual",
		Help: "Actual answer only. Without a Path the cookie stays with this request's URL.",
		At:   func(p *Policy, _ bool) any { return &p.SetCookie }},
	{Key: "body", Go: "Body", Label: "Response body", On: "actual",
		Help: "Empty: corslab: ok",
		At:   func(p *Policy, _ bool) any { return &p.Body }},
	{Key: "stall", Go: "Stall", Label: "Stall the answer", Choices: []string{"", StallHeaders, StallResponse, StallClose},
		Help: "headers: send the headers, hold the body; response: send nothing; close: close the connection unanswered.",
		At:   func(p *Policy, _ bool) any { return &p.Stall }},
	{Key: "redirect-status", Go: "Redirect.Status", Label: "Redirect status", On: "",
		Help: "301, 302, 303, 307 or 308: answer with a redirect to the next hop instead. Empty: no redirect.",
		At: func(p *Policy, alloc bool) any {
			if p.Redirect == nil {
				if !alloc {
					return new(int)
				}
				p.Redirect = &Redirect{}
			}
			return &p.Redirect.Status
		}},
	{Key: "redirect-to", Go: "Redirect.To", Label: "Redirect to origin",
		Help: "The next hop's origin, one of corslab's own; empty: the same origin.",
		At: func(p *Policy, alloc bool) any {
			if p.Redirect == nil {
				if !alloc {
					return new(string)
				}
				p.Redirect = &Redirect{}
			}
			return &p.Redirect.To
		}},
	{Key: "redirect-then", Go: "Redirect.Then", Label: "The next hop answers",
		At: func(p *Policy, alloc bool) any {
			if p.Redirect == nil {
				if !alloc {
					return new(*Policy)
				}
				p.Redirect = &Redirect{}
			}
			return &p.Redirect.Then
		}},
	{Key: "preflight", Go: "Preflight", Label: "The preflight's own answer",
		At: func(p *Policy, _ bool) any { return &p.Preflight }},
	{Key: "no-body", Go: "NoBody", Label: "No body", On: "actual",
		Help: "Send the actual answer with no body at all (not the default text).",
		At:   func(p *Policy, _ bool) any { return &p.NoBody }},
	{Key: "raw-header", Go: "RawHeaders", Label: "Raw response headers", Raw: true,
		Help: "Name:value lines written to the wire exactly (spaces after the colon and NUL kept), on both answers.",
		At:   func(p *Policy, _ bool) any { return &p.RawHeaders }},
	{Key: "later-from", Go: "LaterFrom", Label: "Later answers from request number",
		Help: "With a later policy: the first request (1-based, preflights count) it answers; empty: 2.",
		At:   func(p *Policy, _ bool) any { return &p.LaterFrom }},
	{Key: "later", Go: "Later", Label: "The answer from that request on",
		At: func(p *Policy, _ bool) any { return &p.Later }},
}

// Validate reports the first field that cannot be sent as written, naming it.
func (p Policy) Validate() error { return p.validate("") }

func (p Policy) validate(prefix string) error {
	bad := func(key, value string, err error) error {
		return &FieldError{Of: "policy", Key: prefix + key, Value: value, Err: err}
	}
	for _, f := range PolicyFields {
		switch v := f.At(&p, false).(type) {
		case *[]string:
			for _, s := range *v {
				if err := CheckHeaderValue(s); err != nil {
					return bad(f.Key, s, err)
				}
			}
		case *string:
			if err := CheckHeaderValue(*v); err != nil {
				return bad(f.Key, *v, err)
			}
			if len(f.Choices) > 0 && !slices.Contains(f.Choices, *v) {
				return bad(f.Key, *v, fmt.Errorf("must be one of %s", quoteAll(f.Choices)))
			}
		case *[]Header:
			if f.Key == "raw-header" {
				continue // checked below: NUL and spaces are allowed there
			}
			for _, h := range *v {
				if err := CheckHeaderName(h.Name); err != nil {
					return bad(f.Key, h.Name, err)
				}
				if err := CheckHeaderValue(h.Value); err != nil {
					return bad(f.Key, h.Name+": "+h.Value, err)
				}
			}
		}
	}
	if p.MaxAge != "" && !p.MaxAgeRaw {
		if _, err := strconv.ParseInt(p.MaxAge, 10, 64); err != nil {
			return bad("max-age", p.MaxAge, errors.New("not a whole number of seconds (set max-age-raw to send it anyway)"))
		}
	}
	if p.Status != 0 && (p.Status < 200 || p.Status > 999) {
		return bad("status", strconv.Itoa(p.Status), errors.New("status must be 200-999 (1xx cannot end an exchange)"))
	}
	if p.PreflightStatus != 0 && (p.PreflightStatus < 200 || p.PreflightStatus > 999) {
		return bad("preflight-status", strconv.Itoa(p.PreflightStatus), errors.New("status must be 200-999 (1xx cannot end an exchange)"))
	}
	for _, h := range p.RawHeaders {
		if err := CheckHeaderName(h.Name); err != nil {
			return bad("raw-header", h.Name, err)
		}
		if i := strings.IndexAny(h.Value, "\r\n"); i >= 0 {
			return bad("raw-header", h.Name+": "+h.Value, fmt.Errorf("header value has the forbidden byte %q at %d (header injection)", h.Value[i], i))
		}
	}
	if p.LaterFrom < 0 {
		return bad("later-from", strconv.Itoa(p.LaterFrom), errors.New("must be a request number, 1 or more"))
	}
	if p.LaterFrom != 0 && p.Later == nil {
		return bad("later-from", strconv.Itoa(p.LaterFrom), errors.New("needs a later policy (later.<field>) to answer from that request on"))
	}
	if p.Later != nil {
		if p.Later.Later != nil {
			return bad("later.later", "", errors.New("a later policy cannot have its own later policy"))
		}
		if err := p.Later.validate(prefix + "later."); err != nil {
			return err
		}
	}
	if p.Redirect != nil {
		if err := p.Redirect.validate(prefix); err != nil {
			return err
		}
	}
	if p.Preflight != nil {
		if strings.HasSuffix(prefix, "preflight.") {
			return bad("preflight", "", errors.New("a preflight policy cannot have its own preflight policy"))
		}
		return p.Preflight.validate(prefix + "preflight.")
	}
	return nil
}

// CheckHeaderName reports whether name is a valid HTTP header name (an RFC 9110 token).
func CheckHeaderName(name string) error {
	if name == "" {
		return errors.New("empty header name")
	}
	for i := 0; i < len(name); i++ {
		if !isTokenByte(name[i]) {
			return fmt.Errorf("header name has the invalid byte %q at %d", name[i], i)
		}
	}
	return nil
}

// CheckHeaderValue reports whether value can be sent as one header line: no CR, LF or NUL.
func CheckHeaderValue(value string) error {
	if i := strings.IndexAny(value, "\r\n\x00"); i >= 0 {
		return fmt.Errorf("header value has the forbidden byte %q at %d (header injection)", value[i], i)
	}
	return nil
}

func isTokenByte(c byte) bool {
	if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// Query encodes the policy as URL query parameters (PolicyFields); ParsePolicy reverses it.
func (p Policy) Query() url.Values {
	q := url.Values{}
	PolicyFields.Encode(q, "", p)
	return q
}

// ParsePolicy decodes a policy from URL query parameters and validates it.
// Unknown parameters are an error, so a typo never silently means "no header".
func ParsePolicy(q url.Values) (Policy, error) {
	var p Policy
	if err := PolicyFields.Decode(q, "", &p); err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			fe.Of = "policy"
		}
		return Policy{}, err
	}
	return p, p.Validate()
}

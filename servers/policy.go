package servers

import (
	"errors"
	"fmt"
	"net/url"
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

// PolicyError says which field of a Policy is wrong and why.
type PolicyError struct {
	Field string // the URL parameter name, e.g. "max-age" or "preflight.status"
	Value string
	Err   error
}

func (e *PolicyError) Error() string {
	return fmt.Sprintf("policy field %q = %q: %v", e.Field, e.Value, e.Err)
}

func (e *PolicyError) Unwrap() error { return e.Err }

// The URL parameter names of the Policy fields, one name per field.
const (
	paramAllowOrigin      = "allow-origin"
	paramAllowMethods     = "allow-methods"
	paramAllowHeaders     = "allow-headers"
	paramExposeHeaders    = "expose-headers"
	paramAllowCredentials = "allow-credentials"
	paramMaxAge           = "max-age"
	paramMaxAgeRaw        = "max-age-raw"
	paramStatus           = "status"
	paramPreflightStatus  = "preflight-status"
	paramHeader           = "header"
	paramSetCookie        = "set-cookie"
	paramBody             = "body"
	paramStall            = "stall"
	preflightPrefix       = "preflight."
)

// Validate reports the first field that cannot be sent as written, naming it.
func (p Policy) Validate() error { return p.validate("") }

func (p Policy) validate(prefix string) error {
	lists := []struct {
		name   string
		values []string
	}{
		{paramAllowOrigin, p.AllowOrigin},
		{paramAllowMethods, p.AllowMethods},
		{paramAllowHeaders, p.AllowHeaders},
		{paramExposeHeaders, p.ExposeHeaders},
		{paramSetCookie, p.SetCookie},
	}
	for _, l := range lists {
		for _, v := range l.values {
			if err := CheckHeaderValue(v); err != nil {
				return &PolicyError{prefix + l.name, v, err}
			}
		}
	}
	if err := CheckHeaderValue(p.AllowCredentials); err != nil {
		return &PolicyError{prefix + paramAllowCredentials, p.AllowCredentials, err}
	}
	if err := CheckHeaderValue(p.MaxAge); err != nil {
		return &PolicyError{prefix + paramMaxAge, p.MaxAge, err}
	}
	if p.MaxAge != "" && !p.MaxAgeRaw {
		if _, err := strconv.ParseInt(p.MaxAge, 10, 64); err != nil {
			return &PolicyError{prefix + paramMaxAge, p.MaxAge, errors.New("not a whole number of seconds (set max-age-raw=1 to send it anyway)")}
		}
	}
	if p.Status != 0 && (p.Status < 200 || p.Status > 599) {
		return &PolicyError{prefix + paramStatus, strconv.Itoa(p.Status), errors.New("status must be 200-599 (1xx cannot end an exchange)")}
	}
	if p.PreflightStatus != 0 && (p.PreflightStatus < 200 || p.PreflightStatus > 599) {
		return &PolicyError{prefix + paramPreflightStatus, strconv.Itoa(p.PreflightStatus), errors.New("status must be 200-599 (1xx cannot end an exchange)")}
	}
	for _, h := range p.Headers {
		if err := CheckHeaderName(h.Name); err != nil {
			return &PolicyError{prefix + paramHeader, h.Name, err}
		}
		if err := CheckHeaderValue(h.Value); err != nil {
			return &PolicyError{prefix + paramHeader, h.Name + ": " + h.Value, err}
		}
	}
	if p.Stall != "" && p.Stall != StallHeaders && p.Stall != StallResponse && p.Stall != StallClose {
		return &PolicyError{prefix + paramStall, p.Stall, fmt.Errorf("stall must be %q, %q or %q", StallHeaders, StallResponse, StallClose)}
	}
	if p.Redirect != nil {
		if err := p.Redirect.validate(prefix); err != nil {
			return err
		}
	}
	if p.Preflight != nil {
		if prefix != "" {
			return &PolicyError{prefix + "preflight", "", errors.New("a preflight policy cannot have its own preflight policy")}
		}
		return p.Preflight.validate(preflightPrefix)
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

// Query encodes the policy as URL query parameters; ParsePolicy reverses it.
func (p Policy) Query() url.Values {
	q := url.Values{}
	p.encode(q, "")
	return q
}

func (p Policy) encode(q url.Values, prefix string) {
	for _, v := range p.AllowOrigin {
		q.Add(prefix+paramAllowOrigin, v)
	}
	for _, v := range p.AllowMethods {
		q.Add(prefix+paramAllowMethods, v)
	}
	for _, v := range p.AllowHeaders {
		q.Add(prefix+paramAllowHeaders, v)
	}
	for _, v := range p.ExposeHeaders {
		q.Add(prefix+paramExposeHeaders, v)
	}
	if p.AllowCredentials != "" {
		q.Set(prefix+paramAllowCredentials, p.AllowCredentials)
	}
	if p.MaxAge != "" {
		q.Set(prefix+paramMaxAge, p.MaxAge)
	}
	if p.MaxAgeRaw {
		q.Set(prefix+paramMaxAgeRaw, "1")
	}
	if p.Status != 0 {
		q.Set(prefix+paramStatus, strconv.Itoa(p.Status))
	}
	if p.PreflightStatus != 0 {
		q.Set(prefix+paramPreflightStatus, strconv.Itoa(p.PreflightStatus))
	}
	for _, h := range p.Headers {
		q.Add(prefix+paramHeader, h.Name+":"+h.Value)
	}
	for _, v := range p.SetCookie {
		q.Add(prefix+paramSetCookie, v)
	}
	if p.Body != "" {
		q.Set(prefix+paramBody, p.Body)
	}
	if p.Stall != "" {
		q.Set(prefix+paramStall, p.Stall)
	}
	if p.Redirect != nil {
		p.Redirect.encode(q, prefix)
	}
	if p.Preflight != nil && prefix == "" {
		p.Preflight.encode(q, preflightPrefix)
	}
}

// ParsePolicy decodes a policy from URL query parameters and validates it.
// Unknown parameters are an error, so a typo never silently means "no header".
func ParsePolicy(q url.Values) (Policy, error) {
	var p, pre Policy
	hasPre := false
	for key, values := range q {
		target, name, prefix := &p, key, ""
		if rest, ok := strings.CutPrefix(key, preflightPrefix); ok {
			target, name, prefix, hasPre = &pre, rest, preflightPrefix, true
		}
		if err := target.set(name, values); err != nil {
			return Policy{}, &PolicyError{prefix + name, strings.Join(values, ","), err}
		}
	}
	if hasPre {
		p.Preflight = &pre
	}
	return p, p.Validate()
}

func (p *Policy) set(name string, values []string) error {
	single := func() (string, error) {
		if len(values) != 1 {
			return "", fmt.Errorf("given %d times, allowed once", len(values))
		}
		return values[0], nil
	}
	status := func() (int, error) {
		v, err := single()
		if err != nil {
			return 0, err
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, errors.New("not a number")
		}
		return n, nil
	}
	var err error
	switch name {
	case paramAllowOrigin:
		p.AllowOrigin = values
	case paramAllowMethods:
		p.AllowMethods = values
	case paramAllowHeaders:
		p.AllowHeaders = values
	case paramExposeHeaders:
		p.ExposeHeaders = values
	case paramAllowCredentials:
		p.AllowCredentials, err = single()
	case paramMaxAge:
		p.MaxAge, err = single()
	case paramMaxAgeRaw:
		var v string
		if v, err = single(); err == nil {
			p.MaxAgeRaw, err = strconv.ParseBool(v)
		}
	case paramStatus:
		p.Status, err = status()
	case paramPreflightStatus:
		p.PreflightStatus, err = status()
	case paramHeader:
		for _, v := range values {
			h, err := ParseHeader(v)
			if err != nil {
				return err
			}
			p.Headers = append(p.Headers, h)
		}
	case paramSetCookie:
		p.SetCookie = values
	case paramBody:
		p.Body, err = single()
	case paramStall:
		p.Stall, err = single()
	case paramRedirectStatus, paramRedirectTo, paramRedirectThen:
		var v string
		if v, err = single(); err == nil {
			err = p.setRedirect(name, v)
		}
	default:
		return errors.New("unknown policy parameter")
	}
	return err
}

package servers

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Redirect makes the API origin answer with a redirect instead of the
// response: Location is To + "/cors/<token><path>?" + Then's query, so the
// next hop carries the same token (one journal, one transcript) and is
// answered by Then. There is no open redirect: To must be "" (the same
// origin) or one of corslab's own origins, checked by the server.
type Redirect struct {
	// Status is the redirect status: 301, 302, 303, 307 or 308.
	Status int
	// To is the origin of the next hop, e.g. Origins.Other.URL; "" means the
	// same origin. It may carry user:password@ (for RedirectContainsCredentials)
	// but no path, query or fragment.
	To string
	// Then is the policy that answers at the next hop; nil answers with no CORS headers.
	Then *Policy
}

// The URL parameter names of the Redirect fields.
const (
	paramRedirectStatus = "redirect-status"
	paramRedirectTo     = "redirect-to"
	paramRedirectThen   = "redirect-then"
)

func (r *Redirect) validate(prefix string) error {
	switch r.Status {
	case 301, 302, 303, 307, 308:
	default:
		return &PolicyError{prefix + paramRedirectStatus, strconv.Itoa(r.Status), errors.New("must be 301, 302, 303, 307 or 308")}
	}
	if r.To != "" {
		if _, err := redirectOrigin(r.To); err != nil {
			return &PolicyError{prefix + paramRedirectTo, r.To, err}
		}
	}
	if r.Then != nil {
		if err := r.Then.validate(""); err != nil {
			return &PolicyError{prefix + paramRedirectThen, r.Then.Query().Encode(), err}
		}
	}
	return nil
}

// redirectOrigin parses to as an origin URL (userinfo allowed) and returns
// its scheme and host:port, which the server compares with its own origins.
func redirectOrigin(to string) (*url.URL, error) {
	u, err := url.Parse(to)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, errors.New("must be an http or https origin such as Origins.Other.URL")
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("must be an origin: no path, query or fragment (the token path is added by the server)")
	}
	return u, nil
}

func (r *Redirect) encode(q url.Values, prefix string) {
	q.Set(prefix+paramRedirectStatus, strconv.Itoa(r.Status))
	if r.To != "" {
		q.Set(prefix+paramRedirectTo, r.To)
	}
	if r.Then != nil {
		q.Set(prefix+paramRedirectThen, r.Then.Query().Encode())
	}
}

// setRedirect decodes one redirect parameter into p.Redirect.
func (p *Policy) setRedirect(name, v string) error {
	if p.Redirect == nil {
		p.Redirect = &Redirect{}
	}
	switch name {
	case paramRedirectStatus:
		n, err := strconv.Atoi(v)
		if err != nil {
			return errors.New("not a number")
		}
		p.Redirect.Status = n
	case paramRedirectTo:
		p.Redirect.To = v
	case paramRedirectThen:
		q, err := url.ParseQuery(v)
		if err != nil {
			return fmt.Errorf("not a query string: %w", err)
		}
		then, err := ParsePolicy(q)
		if err != nil {
			return err
		}
		p.Redirect.Then = &then
	}
	return nil
}

// location builds the Location of a redirect for a request to path on token,
// refusing any origin that is not one of own (scheme://host:port).
func (r *Redirect) location(token, path string, own []string) (string, error) {
	base := ""
	if r.To != "" {
		u, err := redirectOrigin(r.To)
		if err != nil {
			return "", err
		}
		origin := u.Scheme + "://" + u.Host
		found := false
		for _, o := range own {
			if strings.EqualFold(o, origin) {
				found = true
			}
		}
		if !found {
			return "", fmt.Errorf("redirect target %s is not one of corslab's origins %v", origin, own)
		}
		base = strings.TrimSuffix(r.To, "/")
	}
	loc := base + "/cors/" + token + path
	if r.Then != nil {
		if q := r.Then.Query().Encode(); q != "" {
			loc += "?" + q
		}
	}
	return loc, nil
}

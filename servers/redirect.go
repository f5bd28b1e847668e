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

func (r *Redirect) validate(prefix string) error {
	switch r.Status {
	case 301, 302, 303, 307, 308:
	default:
		return &FieldError{Of: "policy", Key: prefix + "redirect-status", Value: strconv.Itoa(r.Status), Err: errors.New("must be 301, 302, 303, 307 or 308")}
	}
	if r.To != "" {
		if _, err := redirectOrigin(r.To); err != nil {
			return &FieldError{Of: "policy", Key: prefix + "redirect-to", Value: r.To, Err: err}
		}
	}
	if r.Then != nil {
		if r.Then.Preflight != nil {
			return &FieldError{Of: "policy", Key: prefix + "redirect-then.preflight", Err: errors.New("the next hop answers the actual request only: it has no preflight policy")}
		}
		return r.Then.validate(prefix + "redirect-then.")
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

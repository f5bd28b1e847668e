package harness

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/corslab/corslab/pages"
)

// NewSessionAs opens a fresh session of the Env's engine whose page runs as
// origin (e.g. "https://app.example.com"), so the API sees exactly that
// Origin header.
//
// The engine answers the page document's navigation itself, and only that:
// every request to the API still goes over the real network to the real
// server, and any other request to origin is refused rather than sent, so no
// traffic leaves this machine. See
// docs/decisions/2026-11-25-impersonate-the-page-origin-with-the-fetch-domain.md.
func (e *Env) NewSessionAs(ctx context.Context, origin string) (*Session, error) {
	o, err := e.checkImpersonated(origin)
	if err != nil {
		return nil, err
	}
	if o == e.Origins.App.URL {
		return e.NewSession(ctx)
	}
	return e.work().openSession(ctx, Page{As: o, HTML: pages.StandaloneHTML()}, o)
}

// checkImpersonated returns origin as a browser serializes it, or an error:
// it must be an origin, and not the API's own.
func (e *Env) checkImpersonated(origin string) (string, error) {
	o, err := CheckPageOrigin(origin)
	if err != nil {
		return "", fmt.Errorf("harness: %w", err)
	}
	for _, s := range []string{e.Origins.API.URL, e.Origins.Other.URL, e.Bases().API} {
		if sameOrigin(o, s) {
			return "", fmt.Errorf("harness: page origin %s is the API's own origin: its requests would not be cross-origin", o)
		}
	}
	return o, nil
}

// CheckPageOrigin returns origin as a browser serializes it, or an error
// naming what is wrong: it must be scheme://host[:port] and nothing more.
func CheckPageOrigin(origin string) (string, error) {
	bad := func(err error) error { return badRequest("from", origin, err) }
	u, err := url.Parse(origin)
	if err != nil {
		return "", bad(err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", bad(errors.New("a page origin is scheme://host[:port], e.g. https://app.example.com"))
	}
	if u.User != nil || u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.Fragment != "" {
		return "", bad(errors.New("a page origin has no user, path, query or fragment"))
	}
	host := strings.ToLower(u.Host)
	if port := u.Port(); u.Scheme == "https" && port == "443" || u.Scheme == "http" && port == "80" {
		host = strings.ToLower(u.Hostname())
	}
	return u.Scheme + "://" + host, nil
}

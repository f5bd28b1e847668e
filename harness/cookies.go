package harness

import (
	"context"
	"fmt"
	"net/http"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// SetCookie stores a cookie in the session's browser context as if rawURL's
// response had sent the Set-Cookie line (name=value and attributes: Path,
// Domain, Secure, HttpOnly, SameSite). The Path defaults to "/".
func (s *Session) SetCookie(ctx context.Context, rawURL, setCookie string) error {
	c, err := http.ParseSetCookie(setCookie)
	if err != nil {
		return fmt.Errorf("harness: cookie %q: %w", setCookie, err)
	}
	p := network.SetCookieParams{Name: c.Name, Value: c.Value, URL: rawURL, Path: c.Path, Domain: c.Domain,
		Secure: &c.Secure, HTTPOnly: &c.HttpOnly}
	if p.Path == "" {
		p.Path = "/"
	}
	switch c.SameSite {
	case http.SameSiteLaxMode:
		p.SameSite = network.CookieSameSiteLax
	case http.SameSiteStrictMode:
		p.SameSite = network.CookieSameSiteStrict
	case http.SameSiteNoneMode:
		p.SameSite = network.CookieSameSiteNone
	}
	rctx, cancel := s.bind(ctx)
	defer cancel()
	if _, err := chromedp.Call(rctx, network.SetCookie, p); err != nil {
		return fmt.Errorf("harness: set cookie %s for %s: %w", c.Name, rawURL, s.explain(err))
	}
	return nil
}

// RequestURL is the URL req will be sent to with token (what Result.URL will be).
func (s *Session) RequestURL(req Request, token string) string {
	return req.urlFor(s.env.apiBase(), s.env.Origins.Other.URL, s.env.Origins.App.URL, token)
}

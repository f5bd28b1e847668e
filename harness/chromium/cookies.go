package chromium

import (
	"context"
	"fmt"
	"net/http"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"
)

// setCookie stores a cookie in browser context bc as if rawURL's response had
// sent the Set-Cookie line (name=value and attributes: Path, Domain, Secure,
// HttpOnly, SameSite). The Path defaults to "/".
func setCookie(ctx context.Context, b *browser, bc cdp.BrowserContextID, rawURL, line string) error {
	c, err := http.ParseSetCookie(line)
	if err != nil {
		return fmt.Errorf("cookie %q: %w", line, err)
	}
	p := &network.CookieParam{Name: c.Name, Value: c.Value, URL: rawURL, Path: c.Path, Domain: c.Domain,
		Secure: c.Secure, HTTPOnly: c.HttpOnly}
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
	cctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	if _, err := chromedp.CallBrowser(cctx, storage.SetCookies, storage.SetCookiesParams{Cookies: []*network.CookieParam{p}, BrowserContextID: bc}); err != nil {
		return fmt.Errorf("set cookie %s for %s: %w", c.Name, rawURL, err)
	}
	return nil
}

package harness

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/corslab/corslab/pages"
)

// NewSessionAs opens a fresh session whose page runs as origin (e.g.
// "https://app.example.com"), so the API sees exactly that Origin header.
//
// Chrome's Fetch domain answers the page document's navigation, and only
// that: the pattern is limited to origin's own URLs, so every request to the
// API still goes over the real network to the real server. Any other request
// to origin is failed rather than sent, so no traffic leaves this machine.
// See docs/decisions/2026-11-25-impersonate-the-page-origin-with-the-fetch-domain.md.
func (e *Env) NewSessionAs(ctx context.Context, origin string) (*Session, error) {
	o, err := checkPageOrigin(origin)
	if err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	if o == e.Origins.App.URL {
		return e.NewSession(ctx)
	}
	for _, s := range []string{e.Origins.API.URL, e.Origins.Other.URL, e.apiBase()} {
		if sameOrigin(o, s) {
			return nil, fmt.Errorf("harness: page origin %s is the API's own origin: its requests would not be cross-origin", o)
		}
	}
	if _, err := e.liveBrowser(ctx); err != nil {
		return nil, err
	}
	ic := &interceptor{origin: o}
	s, err := e.openSessionOn(ctx, o, ic.start)
	if err != nil {
		return nil, err
	}
	s.intercepted = ic
	return s, nil
}

// checkPageOrigin returns origin as a browser serializes it, or an error
// naming what is wrong: it must be scheme://host[:port] and nothing more.
func checkPageOrigin(origin string) (string, error) {
	u, err := url.Parse(origin)
	if err != nil {
		return "", &RequestError{"From", origin, err}
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", &RequestError{"From", origin, errors.New("a page origin is scheme://host[:port], e.g. https://app.example.com")}
	}
	if u.User != nil || u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.Fragment != "" {
		return "", &RequestError{"From", origin, errors.New("a page origin has no user, path, query or fragment")}
	}
	host := strings.ToLower(u.Host)
	if port := u.Port(); u.Scheme == "https" && port == "443" || u.Scheme == "http" && port == "80" {
		host = strings.ToLower(u.Hostname())
	}
	return u.Scheme + "://" + host, nil
}

// interceptor answers the page document of one origin through the Fetch domain.
type interceptor struct {
	origin string

	mu     sync.Mutex
	paused []string // every URL Chrome paused, in order
}

// start enables interception in tab for the page origin's URLs only and
// answers them from a goroutine that ends with the tab.
func (ic *interceptor) start(tab context.Context) error {
	// Subscribe before enabling: no paused request may be missed.
	events := chromedp.Events(tab, fetch.RequestPaused)
	_, err := chromedp.Call(tab, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{
		{URLPattern: ic.origin + "/*", RequestStage: fetch.RequestStageRequest},
	}})
	if err != nil {
		return fmt.Errorf("enable Fetch interception for %s: %w", ic.origin, err)
	}
	if err := grantLocalNetwork(tab, ic.origin); err != nil {
		return err
	}
	go func() {
		for ev, err := range events {
			if err != nil {
				return
			}
			ic.answer(tab, ev)
		}
	}()
	return nil
}

func (ic *interceptor) answer(tab context.Context, ev fetch.EventRequestPaused) {
	ic.mu.Lock()
	ic.paused = append(ic.paused, ev.Request.URL)
	ic.mu.Unlock()
	if ev.ResourceType != network.ResourceTypeDocument || ev.Request.URL != ic.origin+"/" {
		// Not the page document: refuse it instead of sending it off this machine.
		_, _ = chromedp.Call(tab, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonBlockedByClient})
		return
	}
	_, _ = chromedp.Call(tab, fetch.FulfillRequest, fetch.FulfillRequestParams{
		RequestID:    ev.RequestID,
		ResponseCode: 200,
		ResponseHeaders: []*fetch.HeaderEntry{
			{Name: "Content-Type", Value: "text/html; charset=utf-8"},
			{Name: "Cache-Control", Value: "no-store"},
		},
		Body: []byte(pages.StandaloneHTML()),
	})
}

// Intercepted returns the URLs Chrome paused for this session's page origin,
// in order: for a session from NewSessionAs, the page document and nothing
// else; nil for a session on corslab's own page origin.
func (s *Session) Intercepted() []string {
	if s.intercepted == nil {
		return nil
	}
	s.intercepted.mu.Lock()
	defer s.intercepted.mu.Unlock()
	return append([]string(nil), s.intercepted.paused...)
}

// localNetworkPermissions are the permission names of Local Network Access.
// Measured in Chromium 156: "loopback-network" alone lets the page reach a
// loopback server, "local-network-access" alone does not; "local-network"
// covers private addresses (an APIURL on the LAN).
var localNetworkPermissions = []string{"local-network-access", "loopback-network", "local-network"}

// grantLocalNetwork lets origin's page reach loopback servers. A document the
// Fetch domain answers has no remote address, so Chrome puts it in the public
// address space and Local Network Access would block every request to our
// loopback API (LocalNetworkAccessPermissionDenied, measured). Production
// pages and APIs share an address space; the grant removes the artifact of
// testing on loopback, for this browser context and origin only.
func grantLocalNetwork(tab context.Context, origin string) error {
	bc := browserContextOf(tab)
	if bc == "" {
		return errors.New("grant local network access: the tab has no browser context of its own")
	}
	var errs []error
	granted := 0
	for _, name := range localNetworkPermissions {
		_, err := chromedp.CallBrowser(tab, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
			Permission: &cdpbrowser.PermissionDescriptor{Name: name}, Setting: cdpbrowser.PermissionSettingGranted,
			Origin: origin, BrowserContextID: bc,
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			continue
		}
		granted++
	}
	if granted == 0 {
		hint := ""
		if strings.HasPrefix(origin, "http:") {
			// Measured: Chromium 156 refuses it for http://app.example.com ("can't be granted in current context").
			hint = "; Chrome grants it only to secure origins: impersonate https://" + strings.TrimPrefix(origin, "http://") + " instead, or serve the API by name (servers.Options.Names)"
		}
		return fmt.Errorf("grant local network access to %s (without it Chrome blocks every request to a loopback API)%s: %w", origin, hint, errors.Join(errs...))
	}
	return nil
}

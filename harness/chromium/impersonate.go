package chromium

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// interceptor answers the page document of one origin through the Fetch domain.
type interceptor struct {
	origin string
	html   string               // the page document
	bc     cdp.BrowserContextID // the tab's browser context, for the Local Network Access grant

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
	if err := grantLocalNetwork(tab, ic.bc, ic.origin); err != nil {
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
		Body: []byte(ic.html),
	})
}

// urls returns the URLs Chrome paused, in order.
func (ic *interceptor) urls() []string {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	return append([]string(nil), ic.paused...)
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
func grantLocalNetwork(tab context.Context, bc cdp.BrowserContextID, origin string) error {
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
	if granted == 0 && !strings.HasPrefix(origin, "http:") {
		return fmt.Errorf("grant local network access to %s (without it Chrome blocks every request to a loopback API): %w", origin, errors.Join(errs...))
	}
	// Measured: Chromium 156 refuses the permission to a page that is not a
	// secure context (http://app.example.com: "can't be granted in current
	// context"). Such a page opens without it, as a real http page would:
	// Chrome itself then blocks its requests to a loopback API
	// (InsecureLocalNetwork), and lets through those to an API in the public
	// address space (--ip-address-space-overrides).
	return nil
}

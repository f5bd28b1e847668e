package harness

import (
	"context"
	"fmt"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// LoopbackNetwork is the permission that lets a public page reach a loopback
// address under Local Network Access. Measured in Chromium 156: granting
// "local-network-access" or "local-network" does not let such a request
// through; "loopback-network" does.
const LoopbackNetwork = "loopback-network"

// Grant grants permission (a Permissions API name, e.g. LoopbackNetwork) to
// the session's page origin in the session's browser context only, with no
// prompt (Browser.setPermission).
func (s *Session) Grant(ctx context.Context, permission string) error {
	bc := browserContextOf(s.tab)
	if bc == "" {
		return fmt.Errorf("harness: grant %s: the session has no browser context", permission)
	}
	rctx, cancel := s.bind(ctx)
	defer cancel()
	_, err := chromedp.CallBrowser(rctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
		Permission:       &cdpbrowser.PermissionDescriptor{Name: permission},
		Setting:          cdpbrowser.PermissionSettingGranted,
		Origin:           s.origin,
		BrowserContextID: bc,
	})
	if err != nil {
		return fmt.Errorf("harness: grant %s to %s: %w", permission, s.origin, err)
	}
	return nil
}

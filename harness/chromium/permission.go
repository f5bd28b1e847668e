package chromium

import (
	"context"
	"fmt"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
)

// grant grants permission to origin in browser context bc only, with no
// prompt (Browser.setPermission).
func grant(ctx context.Context, b *browser, bc cdp.BrowserContextID, origin, permission string) error {
	cctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	_, err := chromedp.CallBrowser(cctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
		Permission:       &cdpbrowser.PermissionDescriptor{Name: permission},
		Setting:          cdpbrowser.PermissionSettingGranted,
		Origin:           origin,
		BrowserContextID: bc,
	})
	if err != nil {
		return fmt.Errorf("Browser.setPermission: %w", err)
	}
	return nil
}

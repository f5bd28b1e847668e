package firefox

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/corslab/corslab/servers"
)

// consoleChannel is the BiDi script channel the chrome-scope console
// listener sends Firefox's CORS messages on.
const consoleChannel = "corslab-console"

// consoleMessage is one nsIScriptError the listener forwarded.
type consoleMessage struct {
	Category string  `json:"category"` // e.g. "CORSMissingAllowOrigin2"
	Message  string  `json:"message"`
	Flags    int     `json:"flags"` // nsIScriptError flags: 1 warning, 0 error
	Window   int64   `json:"window"`
	Time     float64 `json:"time"` // ms since the epoch
	token    string
}

// consoleListener runs in the browser's chrome scope (it needs
// --remote-allow-system-access): it registers a Services.console listener
// and forwards each CORS message, with its machine-readable category, on the
// channel. Firefox's CORS checks run in the parent process, so their
// messages reach the parent's console service whatever content process the
// page lives in; BiDi's own log.entryAdded carries only the text of errors,
// with no category.
const consoleListener = `(send) => {
  const listener = {
    observe(m) {
      try {
        if (!(m instanceof Ci.nsIScriptError)) return;
        const cat = m.category || "";
        if (!cat.startsWith("CORS") && !/Cross-Origin Request/.test(m.errorMessage)) return;
        send(JSON.stringify({category: cat, message: m.errorMessage, flags: m.flags,
          window: m.innerWindowID, time: m.timeStamp}));
      } catch (e) {}
    },
    QueryInterface: ChromeUtils.generateQI(["nsIConsoleListener"]),
  };
  Services.console.registerListener(listener);
  return "ok";
}`

// startConsole finds the browser window's chrome context and installs the console listener there.
func (b *browser) startConsole(ctx context.Context) error {
	var tree struct {
		Contexts []struct {
			Context string `json:"context"`
			URL     string `json:"url"`
		} `json:"contexts"`
	}
	if err := b.call(ctx, "browsingContext.getTree", map[string]any{"moz:scope": "chrome"}, &tree); err != nil {
		return fmt.Errorf("find the chrome context (needs --remote-allow-system-access): %w", err)
	}
	for _, c := range tree.Contexts {
		if strings.HasPrefix(c.URL, "chrome://browser/") {
			b.chromeCtx = c.Context
			break
		}
	}
	if b.chromeCtx == "" && len(tree.Contexts) > 0 {
		b.chromeCtx = tree.Contexts[0].Context
	}
	if b.chromeCtx == "" {
		return errors.New("find the chrome context: browsingContext.getTree returned none")
	}
	var res evalResult
	err := b.call(ctx, "script.callFunction", map[string]any{
		"functionDeclaration": consoleListener,
		"arguments":           []any{map[string]any{"type": "channel", "value": map[string]any{"channel": consoleChannel}}},
		"target":              map[string]any{"context": b.chromeCtx},
		"awaitPromise":        false,
		"resultOwnership":     "none",
	}, &res)
	if err == nil {
		err = res.err()
	}
	if err != nil {
		return fmt.Errorf("install the console listener: %w", err)
	}
	return nil
}

// chromeEval evaluates a chrome-scope expression (awaiting a promise) and returns its string value.
func (b *browser) chromeEval(ctx context.Context, expr string) (string, error) {
	var res evalResult
	err := b.call(ctx, "script.evaluate", map[string]any{
		"expression":      expr,
		"target":          map[string]any{"context": b.chromeCtx},
		"awaitPromise":    true,
		"resultOwnership": "none",
	}, &res)
	if err != nil {
		return "", err
	}
	if err := res.err(); err != nil {
		return "", err
	}
	return res.String(), nil
}

// pref returns a preference's current value as the browser sees it, as
// text; "" when it is not set.
func (b *browser) pref(ctx context.Context, name string) (string, error) {
	expr := fmt.Sprintf(`(() => { const n = %q; switch (Services.prefs.getPrefType(n)) {
  case Services.prefs.PREF_INT: return String(Services.prefs.getIntPref(n));
  case Services.prefs.PREF_BOOL: return String(Services.prefs.getBoolPref(n));
  case Services.prefs.PREF_STRING: return Services.prefs.getStringPref(n);
  default: return ""; } })()`, name)
	v, err := b.chromeEval(ctx, expr)
	if err != nil {
		return "", fmt.Errorf("read pref %s: %w", name, err)
	}
	return v, nil
}

// A token is letters, digits, "-" and "_" (harness.Request.Token), so it
// needs no escaping in a URL and ends where a message's punctuation begins.
var (
	tokenInPath  = regexp.MustCompile(`/cors/([A-Za-z0-9_-]+)`)
	tokenInQuery = regexp.MustCompile(`[?&]` + servers.TokenParam + `=([A-Za-z0-9_-]+)`)
)

// tokenOf returns the corslab token in s (a URL, or a message that quotes
// one): the path segment after /cors/, or the corslab-token query parameter.
func tokenOf(s string) string {
	if m := tokenInPath.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	if m := tokenInQuery.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return ""
}

package firefox

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// basePrefs keep Firefox quiet, local and deterministic for CORS tests; the
// remote agent's own recommended prefs (telemetry, updates, safe browsing) apply too.
var basePrefs = map[string]any{
	// No proxy and no DNS over HTTPS: names resolve here, traffic stays here.
	"network.proxy.type": 0,
	"network.trr.mode":   5,
	// HTTPS-First would try https:// first for a plain http://app.test page.
	"dom.security.https_first":            false,
	"dom.security.https_first_schemeless": false,
	// No speculative connections: the journal sees only requests the page made.
	"network.http.speculative-parallel-limit": 0,
	"network.dns.disablePrefetch":             true,
	"network.prefetch-next":                   false,
	// Every corslab tab is a background tab, and Firefox throttles the timers
	// of background tabs to about one a second, which would stretch cors.js's
	// timeouts and any page timer: no throttling.
	"dom.min_background_timeout_value":                           4,
	"dom.min_background_timeout_value_without_budget_throttling": 4,
	"dom.timeout.enable_budget_timer_throttling":                 false,
	"browser.shell.checkDefaultBrowser":                          false,
	"browser.startup.page":                                       0,
	"toolkit.telemetry.enabled":                                  false,
}

// writeUserJS writes the profile's user.js: the base prefs, the host
// mapping, the cookie policy and any extra prefs, in that order.
func writeUserJS(profile string, cfg config) error {
	prefs := maps.Clone(basePrefs)
	if len(cfg.names) > 0 {
		for _, h := range cfg.names {
			if h == "" || strings.ContainsAny(h, ", *") {
				return fmt.Errorf("host name %q: network.dns.localDomains takes exact names, no wildcards or commas", h)
			}
		}
		prefs["network.dns.localDomains"] = strings.Join(cfg.names, ",")
	}
	if cfg.thirdParty {
		// Firefox's default (5) keeps third-party cookies in a jar per top-level site.
		prefs["network.cookie.cookieBehavior"] = 0
	}
	maps.Copy(prefs, cfg.prefs)
	var sb strings.Builder
	for _, k := range slices.Sorted(maps.Keys(prefs)) {
		switch prefs[k].(type) {
		case string, bool, int, int32, int64:
		default:
			return fmt.Errorf("pref %s: %T is not a string, bool or int", k, prefs[k])
		}
		name, _ := json.Marshal(k)
		val, _ := json.Marshal(prefs[k])
		fmt.Fprintf(&sb, "user_pref(%s, %s);\n", name, val)
	}
	if err := os.WriteFile(filepath.Join(profile, "user.js"), []byte(sb.String()), 0o600); err != nil {
		return fmt.Errorf("write user.js: %w", err)
	}
	return nil
}

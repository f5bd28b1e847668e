package harness

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Envs of one process that set Options.ShareBrowser and launch Chrome with
// the same flags share one browser: a launch costs ~0.9 s of CPU, a browser
// context ~0.2 s, and every session is its own browser context anyway. The
// last Env to let go of a browser closes it.
var shared = struct {
	sync.Mutex
	byKey     map[string]*sharedBrowser
	byBrowser map[*browser]*sharedBrowser
}{byKey: map[string]*sharedBrowser{}, byBrowser: map[*browser]*sharedBrowser{}}

type sharedBrowser struct {
	b    *browser
	key  string
	refs int
}

// key is what two launches must agree on to share a browser.
func (cfg launchConfig) key() string {
	flags := make([]string, 0, len(cfg.extraFlags))
	for k, v := range cfg.extraFlags {
		flags = append(flags, fmt.Sprintf("%s=%v", k, v))
	}
	slices.Sort(flags)
	return strings.Join([]string{cfg.path, cfg.hostRule, cfg.spki, fmt.Sprint(cfg.thirdParty), strings.Join(flags, "\x00")}, "\x01")
}

// acquire returns a running browser for cfg: with share, the one another Env
// of this process shares when it still runs, else a new one.
func acquire(ctx context.Context, cfg launchConfig, share bool) (*browser, error) {
	if !share || cfg.remoteURL != "" {
		return start(ctx, cfg)
	}
	shared.Lock()
	defer shared.Unlock()
	k := cfg.key()
	if sb := shared.byKey[k]; sb != nil && sb.b.alive() {
		sb.refs++
		return sb.b, nil
	}
	b, err := start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	sb := &sharedBrowser{b: b, key: k, refs: 1}
	shared.byKey[k] = sb // a dead one it replaces stays in byBrowser until its last Env lets go
	shared.byBrowser[b] = sb
	return b, nil
}

// release lets go of b; the last Env to do so closes it (a dead one: removes what it left).
func release(b *browser) error {
	shared.Lock()
	if sb := shared.byBrowser[b]; sb != nil {
		if sb.refs--; sb.refs > 0 {
			shared.Unlock()
			return nil
		}
		delete(shared.byBrowser, b)
		if shared.byKey[sb.key] == sb { // not yet replaced after a crash
			delete(shared.byKey, sb.key)
		}
	}
	shared.Unlock()
	return b.close()
}

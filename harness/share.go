package harness

import (
	"context"
	"sync"
)

// Envs of one process that set Options.ShareBrowser and launch an engine with
// the same settings share one browser of it: a Chromium launch costs ~0.9 s
// of CPU, a browser context ~0.2 s, and every session is its own browser
// context anyway. The last Env to let go of a browser closes it.
var shared = struct {
	sync.Mutex
	byKey     map[string]*sharedBrowser
	byBrowser map[Browser]*sharedBrowser
}{byKey: map[string]*sharedBrowser{}, byBrowser: map[Browser]*sharedBrowser{}}

type sharedBrowser struct {
	b    Browser
	key  string
	refs int
}

// acquire returns a running browser of kind for cfg: with share, the one
// another Env of this process shares when it still runs, else a new one.
func acquire(ctx context.Context, kind Engine, cfg LaunchConfig, share bool) (Browser, error) {
	if !share || cfg.RemoteURL != "" {
		return kind.Launch(ctx, cfg)
	}
	shared.Lock()
	defer shared.Unlock()
	k := string(kind.Name()) + "\x02" + cfg.Key()
	if sb := shared.byKey[k]; sb != nil && alive(sb.b) {
		sb.refs++
		return sb.b, nil
	}
	b, err := kind.Launch(ctx, cfg)
	if err != nil {
		return nil, err
	}
	sb := &sharedBrowser{b: b, key: k, refs: 1}
	shared.byKey[k] = sb // a dead one it replaces stays in byBrowser until its last Env lets go
	shared.byBrowser[b] = sb
	return b, nil
}

// release lets go of b; the last Env to do so closes it (a dead one: removes what it left).
func release(b Browser) error {
	if b == nil {
		return nil
	}
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
	return b.Close()
}

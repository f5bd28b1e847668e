package harness

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/corslab/corslab/pages"
)

// A lane keeps warm tabs per page origin for the requests that need no
// browser context of their own: corslab's page origin, a sandboxed page
// (Origin null), and every impersonated origin a run uses. The tabs of one
// origin share a browser context (its cookies and caches); the token in each
// request's URL keeps requests apart (docs/decisions/ on isolation). A tab
// serves as many requests at once as its engine runs in one page (InFlight);
// more concurrent requests of one origin get more tabs, in the same context.

// poolKey names the tabs of one page: the origin they run as, or "null" for the sandboxed page.
type poolKey = string

// tabPool is a lane's warm tabs.
type tabPool struct {
	mu      sync.Mutex
	root    map[poolKey]*Session // the session that owns each origin's context
	tabs    map[poolKey][]*pooled
	all     []*Session                // every tab, for close
	opening map[poolKey]chan struct{} // closed when the origin's first tab is open (or failed)
}

// pooled is a warm tab and the requests it serves now.
type pooled struct {
	s    *Session
	load int
}

// borrow returns a warm tab on origin ("" is corslab's page origin, "null"
// its sandboxed page, any other value an origin to run as): the least
// loaded one with room for another request, made when none has room, and
// the func that gives it back.
func (l *lane) borrow(ctx context.Context, origin string) (*Session, func(), error) {
	if origin == "" {
		origin = l.env.Origins.App.URL
	}
	p := &l.tabs
	p.mu.Lock()
	var best *pooled
	live := p.tabs[origin][:0]
	for _, t := range p.tabs[origin] {
		if !t.s.alive() {
			continue // a tab of a browser that died: dropped (closed with the pool)
		}
		live = append(live, t)
		if t.load < inFlight(t.s.tab) && (best == nil || t.load < best.load) {
			best = t
		}
	}
	if p.tabs != nil {
		p.tabs[origin] = live
	}
	if best != nil {
		best.load++
		p.mu.Unlock()
		return best.s, l.giveBack(best), nil
	}
	if wait := p.opening[origin]; wait != nil {
		// Another borrower is opening the origin's context: its tab will
		// have room, and a second context would cost as much again.
		p.mu.Unlock()
		select {
		case <-wait:
			return l.borrow(ctx, origin)
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("harness: wait for a tab on %s: %w", origin, ctx.Err())
		}
	}
	root := p.root[origin]
	var opened chan struct{}
	if root == nil || !root.alive() {
		opened = make(chan struct{})
		if p.opening == nil {
			p.opening = map[poolKey]chan struct{}{}
		}
		p.opening[origin] = opened
	}
	p.mu.Unlock()
	if opened != nil {
		defer func() {
			p.mu.Lock()
			delete(p.opening, origin)
			p.mu.Unlock()
			close(opened)
		}()
	}

	var s *Session
	var err error
	switch {
	case root != nil && root.alive():
		s, err = root.newTabOf(ctx, origin)
	default:
		s, err = l.openFor(ctx, origin)
		if err == nil {
			p.mu.Lock()
			if p.root == nil {
				p.root = map[poolKey]*Session{}
			}
			p.root[origin] = s
			p.mu.Unlock()
		}
	}
	if err != nil {
		return nil, nil, err
	}
	t := &pooled{s: s, load: 1}
	p.mu.Lock()
	p.all = append(p.all, s)
	if p.tabs == nil {
		p.tabs = map[poolKey][]*pooled{}
	}
	p.tabs[origin] = append(p.tabs[origin], t)
	p.mu.Unlock()
	return s, l.giveBack(t), nil
}

func (l *lane) giveBack(t *pooled) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			l.tabs.mu.Lock()
			t.load--
			l.tabs.mu.Unlock()
		})
	}
}

// openFor opens a fresh browser context with a tab for origin.
func (l *lane) openFor(ctx context.Context, origin string) (*Session, error) {
	app := l.env.Origins.App.URL
	switch origin {
	case app:
		return l.openSession(ctx, Page{URL: app + "/"}, app)
	case "null":
		return l.openSession(ctx, Page{URL: app + pages.SandboxedPath}, "null")
	}
	return l.openSession(ctx, Page{As: origin, HTML: pages.StandaloneHTML()}, origin)
}

// newTabOf opens another tab for origin in s's browser context.
func (s *Session) newTabOf(ctx context.Context, origin string) (*Session, error) {
	switch origin {
	case s.env.Origins.App.URL:
		return s.NewTab(ctx)
	case "null":
		return s.NewSandboxedTab(ctx)
	}
	return s.NewTabAs(ctx, origin)
}

// closeTabs closes every pooled tab and the contexts they own.
func (l *lane) closeTabs() error {
	p := &l.tabs
	p.mu.Lock()
	all := p.all
	p.all, p.tabs, p.root = nil, nil, nil
	p.mu.Unlock()
	// At once: a run may have opened a context for each of dozens of origins.
	errs := make([]error, len(all))
	var wg sync.WaitGroup
	for i, s := range all {
		wg.Go(func() { errs[i] = s.Close() })
	}
	wg.Wait()
	return errors.Join(errs...)
}

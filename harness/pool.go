package harness

import (
	"context"
	"errors"
	"sync"

	"github.com/corslab/corslab/pages"
)

// A lane keeps warm tabs per page origin for the requests that need no
// browser context of their own: corslab's page origin, a sandboxed page
// (Origin null), and every impersonated origin a run uses. The tabs of one
// origin share a browser context (its cookies and caches); the token in each
// request's URL keeps requests apart (docs/decisions/ on isolation). A tab
// serves one request at a time, so concurrent requests of one origin get
// tabs of their own, in the same context.

// poolKey names the tabs of one page: the origin they run as, or "null" for the sandboxed page.
type poolKey = string

// tabPool is a lane's warm tabs.
type tabPool struct {
	mu   sync.Mutex
	root map[poolKey]*Session   // the session that owns each origin's context
	idle map[poolKey][]*Session // tabs ready to serve, per origin
	all  []*Session             // every tab, for close
}

// borrow returns a warm tab on origin ("" is corslab's page origin, "null"
// its sandboxed page, any other value an origin to run as), made when none
// is idle, and the func that gives it back.
func (l *lane) borrow(ctx context.Context, origin string) (*Session, func(), error) {
	if origin == "" {
		origin = l.env.Origins.App.URL
	}
	p := &l.tabs
	p.mu.Lock()
	for len(p.idle[origin]) > 0 {
		n := len(p.idle[origin])
		s := p.idle[origin][n-1]
		p.idle[origin] = p.idle[origin][:n-1]
		if s.alive() {
			p.mu.Unlock()
			return s, l.giveBack(origin, s), nil
		}
	}
	root := p.root[origin]
	p.mu.Unlock()

	var s *Session
	var err error
	switch {
	case root != nil && root.alive():
		s, err = root.newTabOf(ctx, origin)
	default:
		s, err = l.openFor(ctx, origin)
		if err == nil {
			p.mu.Lock()
			if old := p.root[origin]; old != nil && old.alive() {
				// Another borrower opened the context first: this one is
				// a context of its own; it still serves, and closes with the pool.
			} else {
				if p.root == nil {
					p.root = map[poolKey]*Session{}
				}
				p.root[origin] = s
			}
			p.mu.Unlock()
		}
	}
	if err != nil {
		return nil, nil, err
	}
	p.mu.Lock()
	p.all = append(p.all, s)
	p.mu.Unlock()
	return s, l.giveBack(origin, s), nil
}

func (l *lane) giveBack(origin string, s *Session) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			p := &l.tabs
			p.mu.Lock()
			defer p.mu.Unlock()
			if p.idle == nil {
				p.idle = map[poolKey][]*Session{}
			}
			p.idle[origin] = append(p.idle[origin], s)
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
	p.all, p.idle, p.root = nil, nil, nil
	p.mu.Unlock()
	var errs []error
	for _, s := range all {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}

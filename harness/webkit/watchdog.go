package webkit

import (
	"context"
	"errors"
	"fmt"
	"github.com/corslab/corslab/harness/internal/procfs"
	"time"
)

// A page whose web process dies is not reported by this WebKit's
// inspector: its target stays and commands to it are never answered
// (TestCrashFailsTheRequestInFlight kills one). So a command that waits for the page runs under a
// watchdog: when a web process the context had is gone, the page is pinged,
// and a ping that is not answered means the page is gone. A page that is
// merely busy (a synchronous XHR) does not answer either, but then no web
// process has died.
const (
	watchEvery  = 250 * time.Millisecond
	pingTimeout = time.Second
)

// guarded runs fn with a context that is canceled, with an errPageGone
// cause, when the tab's page is found dead; the browser is then gone too.
func (t *tab) guarded(ctx context.Context, fn func(ctx context.Context) error) error {
	gctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(watchEvery)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-gctx.Done():
				return
			case <-tick.C:
			}
			gone := t.c.goneWebProcesses()
			if gone == 0 {
				continue
			}
			pctx, pcancel := context.WithTimeout(gctx, pingTimeout)
			err := t.s.call(pctx, "Runtime.evaluate", map[string]any{"expression": "1"}, nil)
			pcancel()
			// An error answer is an answer: only silence means the page is gone.
			var pe *protoError
			if err != nil && !errors.As(err, &pe) && gctx.Err() == nil {
				err := fmt.Errorf("%w (%d web process(es) of the MiniBrowser died and the page no longer answers)", errPageGone, gone)
				t.c.b.fail(err)
				cancel(err)
				return
			}
			t.c.noteWebProcesses()
		}
	}()
	err := fn(gctx)
	close(stop)
	<-done
	if cause := context.Cause(gctx); err != nil && ctx.Err() == nil && cause != nil && !errors.Is(err, errPageGone) {
		// The watchdog's cause, not the command's own error, says what happened.
		return fmt.Errorf("%w: %w", cause, err)
	}
	return err
}

// webProcesses returns the pids of the context's WebKitWebProcess processes.
func (c *bcontext) webProcesses() map[int]bool {
	out := map[int]bool{}
	for _, pid := range procfs.GroupPIDs(c.proc.pid()) {
		if processName(pid) == "WebKitWebProces" { // comm is cut at 15 bytes
			out[pid] = true
		}
	}
	return out
}

// noteWebProcesses remembers the context's web processes as they are now.
func (c *bcontext) noteWebProcesses() {
	now := c.webProcesses()
	c.mu.Lock()
	c.webProcs = now
	c.mu.Unlock()
}

// goneWebProcesses counts the web processes noted last that are gone.
func (c *bcontext) goneWebProcesses() int {
	now := c.webProcesses()
	c.mu.Lock()
	defer c.mu.Unlock()
	gone := 0
	for pid := range c.webProcs {
		if !now[pid] {
			gone++
		}
	}
	return gone
}

package webkit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/corslab/corslab/harness"
)

// errPageGone is wrapped by the errors of commands whose page went away
// under them: its web process crashed or was killed, or its target was
// destroyed. It wraps harness.ErrBrowserDied: the harness then replaces the
// browser (see browser.fail).
var errPageGone = fmt.Errorf("the page's web process went away (%w)", harness.ErrBrowserDied)

// pageDomains are enabled on every target of a page, including the
// provisional target a cross-site navigation creates (a new web process).
var pageDomains = []string{"Network.enable", "Console.enable", "Page.enable", "Runtime.enable"}

// session is one WebSocket to a page's inspector socket (/socket/C/T/WebPage).
//
// WebKit's remote inspector wraps every page command in
// Target.sendMessageToTarget and every answer and event in
// Target.dispatchMessageFromTarget. A navigation that swaps the web process
// creates a provisional target, paused (Target.setPauseOnStart) until its
// domains are enabled, which then replaces the old one
// (Target.didCommitProvisionalTarget); the session follows it.
type session struct {
	ws      *websocket.Conn
	onEvent func(target, method string, params json.RawMessage) // runs in the read loop: must return fast
	// onIntercept, when set, answers Network.requestIntercepted in the read loop.
	onIntercept func(ctx context.Context, s *session, target string, params json.RawMessage)
	cancel      context.CancelFunc // stops the read loop
	done        chan struct{}      // closed when the read loop has ended
	ready       chan struct{}      // closed when the committed target is known

	mu      sync.Mutex
	nextID  int64
	pending map[int64]chan reply
	target  string // the committed target commands go to
	waiters []*waiter
	setup   []setupCommand // sent to every provisional target too, after pageDomains
	gone    error          // set when the page's target went away: every later command fails with it
	err     error          // why the read loop ended
}

// setupCommand is a command every target of the page must have had.
type setupCommand struct {
	method string
	params any
}

type reply struct {
	Result json.RawMessage
	Err    error
}

// waiter is a one-shot wait for an event of a method.
type waiter struct {
	method string
	ch     chan json.RawMessage
}

// protoError is an error answer of the inspector.
type protoError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e *protoError) Error() string { return fmt.Sprintf("inspector error %d: %s", e.Code, e.Message) }

// message is any frame of the protocol, outer or inner.
type message struct {
	ID     int64           `json:"id,omitempty"`
	Method string          `json:"method,omitempty"`
	Params json.RawMessage `json:"params,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  *protoError     `json:"error,omitempty"`
}

type targetInfo struct {
	TargetID      string `json:"targetId"`
	Type          string `json:"type"`
	IsProvisional bool   `json:"isProvisional"`
	IsPaused      bool   `json:"isPaused"`
}

// dialSession connects to the page socket at wsURL and waits, bounded by
// ctx, for its first target; the domains in pageDomains are enabled on it.
func dialSession(ctx context.Context, wsURL string, onEvent func(target, method string, params json.RawMessage)) (*session, error) {
	ws, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPClient: inspectorClient})
	if err != nil {
		return nil, fmt.Errorf("dial the inspector at %s: %w", wsURL, err)
	}
	ws.SetReadLimit(64 << 20)
	loopCtx, cancel := context.WithCancel(context.Background())
	s := &session{ws: ws, onEvent: onEvent, cancel: cancel, done: make(chan struct{}), ready: make(chan struct{}), pending: map[int64]chan reply{}}
	go s.readLoop(loopCtx)
	select {
	case <-s.ready:
	case <-s.done:
		s.close()
		return nil, fmt.Errorf("inspector at %s: %w", wsURL, s.closedErr())
	case <-ctx.Done():
		s.close()
		return nil, fmt.Errorf("inspector at %s: no target: %w", wsURL, ctx.Err())
	}
	if err := s.outer(ctx, "Target.setPauseOnStart", map[string]any{"pauseOnStart": true}); err != nil {
		s.close()
		return nil, err
	}
	// The domains are enabled at once: each command to a page costs a round
	// trip through MiniBrowser, and they do not depend on each other.
	errs := make([]error, len(pageDomains))
	var wg sync.WaitGroup
	for i, m := range pageDomains {
		wg.Go(func() {
			// The first target may be swapped out already (a new tab's first
			// load): the read loop enables the domains on its successor, and
			// the inspector answers "missing target" or "already enabled".
			var pe *protoError
			if err := s.call(ctx, m, nil, nil); err != nil && !errors.As(err, &pe) {
				errs[i] = err
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// addSetup sends method to the current target and to every later one
// (a navigation to another site swaps the target).
func (s *session) addSetup(ctx context.Context, method string, params any) error {
	s.mu.Lock()
	s.setup = append(s.setup, setupCommand{method, params})
	s.mu.Unlock()
	return s.call(ctx, method, params, nil)
}

// waitFor returns a channel that receives the params of the next event of method.
func (s *session) waitFor(method string) <-chan json.RawMessage {
	w := &waiter{method: method, ch: make(chan json.RawMessage, 1)}
	s.mu.Lock()
	s.waiters = append(s.waiters, w)
	s.mu.Unlock()
	return w.ch
}

func (s *session) readLoop(ctx context.Context) {
	defer close(s.done)
	for {
		_, b, err := s.ws.Read(ctx)
		if err != nil {
			s.fail(fmt.Errorf("inspector connection closed: %w", err))
			return
		}
		if debugFrames != nil {
			fmt.Fprintf(debugFrames, "%s < %.300s\n", time.Now().Format("15:04:05.000"), b)
		}
		var m message
		if err := json.Unmarshal(b, &m); err != nil {
			continue
		}
		s.dispatchOuter(ctx, m)
	}
}

func (s *session) dispatchOuter(ctx context.Context, m message) {
	switch m.Method {
	case "":
		// The answer to an outer command; a wrapped command's answer comes inside.
		if m.Error != nil {
			s.complete(m.ID, reply{Err: m.Error})
		} else {
			s.completeOuter(m.ID)
		}
		return
	case "Target.dispatchMessageFromTarget":
		var p struct {
			TargetID string `json:"targetId"`
			Message  string `json:"message"`
		}
		if json.Unmarshal(m.Params, &p) != nil {
			return
		}
		var inner message
		if json.Unmarshal([]byte(p.Message), &inner) != nil {
			return
		}
		if inner.Method == "" {
			if inner.Error != nil {
				s.complete(inner.ID, reply{Err: inner.Error})
			} else {
				s.complete(inner.ID, reply{Result: inner.Result})
			}
			return
		}
		if inner.Method == "Network.requestIntercepted" {
			s.mu.Lock()
			answer := s.onIntercept
			s.mu.Unlock()
			if answer != nil {
				answer(ctx, s, p.TargetID, inner.Params)
			}
		}
		s.event(p.TargetID, inner.Method, inner.Params)
		return
	case "Target.targetCreated":
		var p struct {
			TargetInfo targetInfo `json:"targetInfo"`
		}
		if json.Unmarshal(m.Params, &p) != nil {
			return
		}
		// On connect the socket announces the page's committed target and
		// any provisional one, in either order; commands go to the committed one.
		s.mu.Lock()
		first := s.target == "" && !p.TargetInfo.IsProvisional
		if first {
			s.target = p.TargetInfo.TargetID
			close(s.ready)
		}
		s.mu.Unlock()
		if p.TargetInfo.IsProvisional {
			// Enable the domains on the new web process's target before its
			// load goes on, so no event of the navigation is missed.
			for _, d := range pageDomains {
				s.sendTo(ctx, p.TargetInfo.TargetID, d, nil)
			}
			s.mu.Lock()
			setup := append([]setupCommand(nil), s.setup...)
			s.mu.Unlock()
			for _, c := range setup {
				s.sendTo(ctx, p.TargetInfo.TargetID, c.method, c.params)
			}
			if p.TargetInfo.IsPaused {
				s.sendOuter(ctx, "Target.resume", map[string]any{"targetId": p.TargetInfo.TargetID})
			}
		}
	case "Target.didCommitProvisionalTarget":
		var p struct {
			Old string `json:"oldTargetId"`
			New string `json:"newTargetId"`
		}
		if json.Unmarshal(m.Params, &p) == nil {
			s.mu.Lock()
			s.target = p.New
			s.mu.Unlock()
		}
	case "Target.targetDestroyed":
		var p struct {
			TargetID string `json:"targetId"`
		}
		if json.Unmarshal(m.Params, &p) == nil {
			s.mu.Lock()
			current := p.TargetID == s.target
			s.mu.Unlock()
			if current {
				// A swap commits the new target before it destroys the old
				// one; the committed target going away means the page did.
				s.goneNow(fmt.Errorf("%w (target %s destroyed: crashed, killed or closed)", errPageGone, p.TargetID))
			}
		}
	}
	s.event("", m.Method, m.Params)
}

func (s *session) event(target, method string, params json.RawMessage) {
	s.mu.Lock()
	var fire []*waiter
	keep := s.waiters[:0]
	for _, w := range s.waiters {
		if w.method == method {
			fire = append(fire, w)
		} else {
			keep = append(keep, w)
		}
	}
	s.waiters = keep
	s.mu.Unlock()
	for _, w := range fire {
		w.ch <- params
	}
	if s.onEvent != nil {
		s.onEvent(target, method, params)
	}
}

func (s *session) complete(id int64, r reply) {
	s.mu.Lock()
	ch := s.pending[id]
	delete(s.pending, id)
	s.mu.Unlock()
	if ch != nil {
		ch <- r
	}
}

// completeOuter ends an outer command that is not a wrapper (its answer is
// the outer one); a wrapper's pending entry waits for the inner answer.
func (s *session) completeOuter(id int64) {
	if id < 0 {
		s.complete(id, reply{})
	}
}

// fail ends the session: every pending and later command fails with err.
func (s *session) fail(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	pending := s.pending
	s.pending = map[int64]chan reply{}
	s.mu.Unlock()
	for _, ch := range pending {
		ch <- reply{Err: err}
	}
}

// goneNow marks the page as gone: pending and later commands fail with err.
func (s *session) goneNow(err error) {
	s.mu.Lock()
	if s.gone == nil {
		s.gone = err
	}
	pending := s.pending
	s.pending = map[int64]chan reply{}
	s.mu.Unlock()
	for _, ch := range pending {
		ch <- reply{Err: err}
	}
}

func (s *session) closedErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gone != nil {
		return s.gone
	}
	if s.err != nil {
		return s.err
	}
	return errors.New("inspector session closed")
}

// call sends method to the page's current target and decodes the answer
// into result (when not nil); it is bounded by ctx. A command that raced a
// process swap (its target was replaced meanwhile) is sent again to the new one.
func (s *session) call(ctx context.Context, method string, params any, result any) error {
	for {
		target, err := s.callOnce(ctx, method, params, result)
		var pe *protoError
		if err != nil && errors.As(err, &pe) && strings.Contains(pe.Message, "Missing target") {
			s.mu.Lock()
			moved := s.target != target
			s.mu.Unlock()
			if moved {
				continue
			}
		}
		return err
	}
}

func (s *session) callOnce(ctx context.Context, method string, params any, result any) (string, error) {
	s.mu.Lock()
	if s.gone != nil || s.err != nil {
		s.mu.Unlock()
		return "", fmt.Errorf("%s: %w", method, s.closedErr())
	}
	s.nextID++
	id := s.nextID
	target := s.target
	ch := make(chan reply, 1)
	s.pending[id] = ch
	s.mu.Unlock()
	if err := s.write(ctx, id, target, method, params); err != nil {
		s.drop(id)
		return target, fmt.Errorf("%s: %w", method, err)
	}
	return target, s.await(ctx, id, method, ch, result)
}

// outer sends a command of the page socket itself (the Target domain).
func (s *session) outer(ctx context.Context, method string, params any) error {
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return fmt.Errorf("%s: %w", method, s.closedErr())
	}
	s.nextID++
	id := -s.nextID // negative: an outer command answered by the outer frame
	ch := make(chan reply, 1)
	s.pending[id] = ch
	s.mu.Unlock()
	b, _ := json.Marshal(message{ID: id, Method: method, Params: mustJSON(params)})
	if err := s.ws.Write(ctx, websocket.MessageText, b); err != nil {
		s.drop(id)
		return fmt.Errorf("%s: %w", method, err)
	}
	return s.await(ctx, id, method, ch, nil)
}

func (s *session) await(ctx context.Context, id int64, method string, ch chan reply, result any) error {
	select {
	case r := <-ch:
		if r.Err != nil {
			return fmt.Errorf("%s: %w", method, r.Err)
		}
		if result != nil && len(r.Result) > 0 {
			if err := json.Unmarshal(r.Result, result); err != nil {
				return fmt.Errorf("%s: decode the answer: %w", method, err)
			}
		}
		return nil
	case <-ctx.Done():
		s.drop(id)
		return fmt.Errorf("%s: %w", method, context.Cause(ctx))
	}
}

func (s *session) drop(id int64) {
	s.mu.Lock()
	delete(s.pending, id)
	s.mu.Unlock()
}

// write sends the wrapped command id to target.
func (s *session) write(ctx context.Context, id int64, target, method string, params any) error {
	inner, err := json.Marshal(message{ID: id, Method: method, Params: mustJSON(params)})
	if err != nil {
		return err
	}
	b, err := json.Marshal(message{ID: id, Method: "Target.sendMessageToTarget",
		Params: mustJSON(map[string]string{"targetId": target, "message": string(inner)})})
	if err != nil {
		return err
	}
	if debugFrames != nil {
		fmt.Fprintf(debugFrames, "%s > %.300s\n", time.Now().Format("15:04:05.000"), b)
	}
	return s.ws.Write(ctx, websocket.MessageText, b)
}

// debugFrames, when set (by tests), receives every frame read and every command written.
var debugFrames io.Writer

// sendTo and sendOuter are fire-and-forget, for the read loop, which must
// not wait for answers it is itself to read.
func (s *session) sendTo(ctx context.Context, target, method string, params any) {
	s.mu.Lock()
	s.nextID++
	id := s.nextID
	s.mu.Unlock()
	_ = s.write(ctx, id, target, method, params)
}

func (s *session) sendOuter(ctx context.Context, method string, params any) {
	s.mu.Lock()
	s.nextID++
	id := s.nextID
	s.mu.Unlock()
	b, _ := json.Marshal(message{ID: id, Method: method, Params: mustJSON(params)})
	_ = s.ws.Write(ctx, websocket.MessageText, b)
}

// close ends the connection and waits for the read loop.
func (s *session) close() {
	s.cancel()
	_ = s.ws.CloseNow()
	<-s.done
}

func mustJSON(v any) json.RawMessage {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("webkit: encode protocol params: %v", err))
	}
	return b
}

// isMissingObject reports whether err says a remote object id went stale (the page navigated).
func isMissingObject(err error) bool {
	var pe *protoError
	return errors.As(err, &pe) && strings.Contains(pe.Message, "Missing injected script")
}

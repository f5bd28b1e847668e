package harness

import (
	"context"
	"errors"
	"fmt"
)

// Play runs sc's sends in order in this session: its cookies first (for the
// first send's URL), then each send; a send that reuses an earlier send's URL
// gets that send's token. It returns the Results so far and the first error.
// sc.From is not looked at: the session's page origin is where the requests
// come from (Env.Play picks a session that fits).
func (s *Session) Play(ctx context.Context, sc Scenario) ([]Result, error) {
	if err := sc.Validate(s.env.opts.AllowRemoteTargets); err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	tokens := make([]string, len(sc.Sends))
	for i, snd := range sc.Sends {
		if snd.Reuse > 0 {
			tokens[i] = tokens[snd.Reuse-1]
		} else {
			tokens[i] = NewToken()
		}
	}
	for _, perm := range sc.Grant {
		if err := s.Grant(ctx, perm); err != nil {
			return nil, err
		}
	}
	if len(sc.Cookies) > 0 {
		u, err := s.RequestURL(sc.Sends[0].Request, tokens[0])
		if err != nil {
			return nil, fmt.Errorf("harness: %w", err)
		}
		for _, c := range sc.Cookies {
			if err := s.SetCookie(ctx, u, c); err != nil {
				return nil, err
			}
		}
	}
	var out []Result
	for i, snd := range sc.Sends {
		req := snd.Request
		req.Token = tokens[i]
		r, err := s.Do(ctx, req)
		if err != nil {
			return out, fmt.Errorf("send %d: %w", i+1, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// Play runs sc in the Env's engine, in a session that fits it. A scenario
// that needs a browser context of its own (Scenario.Isolated: it stores
// cookies, grants a permission, or sends credentials, whose answer may store
// a cookie) gets a fresh one, on its page origin; any other borrows a warm
// tab of the pool for its page origin (corslab's own, a sandboxed page, or
// the origin it runs as), kept apart from every other scenario by its
// tokens: its own URLs, so its own preflight-cache and HTTP-cache entries.
func (e *Env) Play(ctx context.Context, sc Scenario) (results []Result, err error) {
	if !sc.Isolated() {
		s, done, err := e.work().borrow(ctx, sc.From)
		if err != nil {
			return nil, err
		}
		defer done()
		return s.Play(ctx, sc)
	}
	var s *Session
	switch sc.From {
	case "":
		s, err = e.NewSession(ctx)
	case "null":
		var root *Session
		if root, err = e.NewSession(ctx); err == nil {
			defer func() { err = errors.Join(err, root.Close()) }()
			s, err = root.NewSandboxedTab(ctx)
		}
	default:
		s, err = e.NewSessionAs(ctx, sc.From)
	}
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, s.Close()) }()
	return s.Play(ctx, sc)
}

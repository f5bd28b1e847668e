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

// Play runs sc in the Env's engine, in a session that fits it: a fresh
// session impersonating sc.From when it names another origin, a fresh
// session when it stores cookies, a sandboxed tab for From "null", and the
// shared tab otherwise (tokens keep its requests apart from every other
// scenario's: their own preflight-cache entries and cookie paths).
func (e *Env) Play(ctx context.Context, sc Scenario) (results []Result, err error) {
	var s *Session
	switch {
	case sc.From != "" && sc.From != "null":
		s, err = e.NewSessionAs(ctx, sc.From)
	case sc.Isolated():
		s, err = e.NewSession(ctx)
	case sc.From == "null":
		var shared *Session
		if shared, err = e.lane().sharedSession(ctx); err == nil {
			s, err = shared.NewSandboxedTab(ctx)
		}
	default:
		if s, err = e.lane().sharedSession(ctx); err == nil {
			return s.Play(ctx, sc)
		}
	}
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, s.Close()) }()
	return s.Play(ctx, sc)
}

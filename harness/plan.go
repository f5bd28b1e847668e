package harness

import (
	"encoding/json"
	"fmt"
	"time"
)

// Plan is a request made ready for a page that is not corslab's: the token,
// the URL and the description cors.js's corslab.run takes. A page on the
// page origin (the teaching lab in a person's own browser) sends it itself;
// the journal then has the server's view under Token.
type Plan struct {
	Token       string          `json:"token"`
	URL         string          `json:"url"`
	Description json.RawMessage `json:"description"`
}

// Plan validates req and makes its Plan on the Env's origins (the same URL
// Do would send it to); a request with no Token gets a new one.
func (e *Env) Plan(req Request) (Plan, error) {
	if err := req.Validate(e.opts.AllowRemoteTargets); err != nil {
		return Plan{}, fmt.Errorf("harness: %w", err)
	}
	token := req.Token
	if token == "" {
		token = NewToken()
	}
	url, err := req.Resolve(e.Bases(), token)
	if err != nil {
		return Plan{}, fmt.Errorf("harness: %w", err)
	}
	timeout := req.Timeout
	if timeout == 0 {
		timeout = 20 * time.Second
	}
	js, err := req.description(url, timeout)
	if err != nil {
		return Plan{}, fmt.Errorf("harness: %w", err)
	}
	return Plan{Token: token, URL: url, Description: js}, nil
}

package lab

import (
	"errors"
	"time"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/servers"
)

// check refuses what the lab must never do, then validates the rest.
func check(r harness.Request) error {
	if r.URL != "" {
		// The lab sends requests only to corslab's own origins: no endpoint
		// makes the browser (or the server) fetch a URL taken from a request.
		return &servers.FieldError{Of: "request", Key: "url", Value: r.URL, Err: errors.New("the lab sends requests only to corslab's own origins")}
	}
	if r.Timeout > time.Minute {
		return &servers.FieldError{Of: "request", Key: "timeout", Value: r.Timeout.String(), Err: errors.New("the lab allows at most 1m")}
	}
	return r.Validate(false)
}

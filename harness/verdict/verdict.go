// Package verdict is corslab's vocabulary for what happened to a request:
// the engines that can be asked, the outcomes a request can have, the common
// reasons a browser blocks one, and one table that says, for each reason,
// what it means and what the server would have to send. Results, the model's
// predictions, expectations files, the lab and the transcripts all speak it.
package verdict

import (
	"fmt"
	"slices"
	"strings"
)

// Engine names a browser engine corslab can drive.
type Engine string

// The engines.
const (
	Chromium Engine = "chromium"
	Firefox  Engine = "firefox"
	WebKit   Engine = "webkit"
)

// Engines lists every engine, in the order reports show them.
var Engines = []Engine{Chromium, Firefox, WebKit}

// Title is the engine's name as a person writes it ("Chromium").
func (e Engine) Title() string {
	switch e {
	case Chromium:
		return "Chromium"
	case Firefox:
		return "Firefox"
	case WebKit:
		return "WebKit"
	}
	return string(e)
}

// ParseEngines reads a comma-separated list of engine names ("all" for every
// engine); an unknown name is an error that lists the known ones.
func ParseEngines(list string) ([]Engine, error) {
	var out []Engine
	for _, f := range strings.Split(list, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		switch {
		case f == "":
			continue
		case f == "all":
			for _, e := range Engines {
				if !slices.Contains(out, e) {
					out = append(out, e)
				}
			}
			continue
		case f == "chrome":
			f = string(Chromium)
		}
		e := Engine(f)
		if !slices.Contains(Engines, e) {
			return nil, fmt.Errorf("unknown engine %q: want chromium, firefox, webkit or all", f)
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no engine in %q: want chromium, firefox, webkit or all", list)
	}
	return out, nil
}

// Outcome is how a request ended for the page.
type Outcome string

// The outcomes.
const (
	// Allowed: the page read the response.
	Allowed Outcome = "allowed"
	// Opaque: a no-cors fetch resolved with an opaque response; no CORS
	// check ran and the page reads nothing (status 0, no text, no headers).
	Opaque Outcome = "opaque"
	// Blocked: the browser refused the page the response, or stopped the
	// request before it was sent, for a CORS reason.
	Blocked Outcome = "blocked"
	// Failed: the request failed on the network; not a CORS error, though
	// the page cannot tell the two apart.
	Failed Outcome = "failed"
	// Aborted: the page aborted its own request.
	Aborted Outcome = "aborted"
	// TimedOut: the page's own timeout ended the request.
	TimedOut Outcome = "timeout"
	// Unsupported: createCORSRequest found no CORS transport and returned null.
	Unsupported Outcome = "unsupported"
	// Threw: the page's call threw before anything was sent.
	Threw Outcome = "exception"
)

// Outcomes lists every outcome.
var Outcomes = []Outcome{Allowed, Opaque, Blocked, Failed, Aborted, TimedOut, Unsupported, Threw}

// ParseOutcome reads an outcome by its name.
func ParseOutcome(s string) (Outcome, error) {
	o := Outcome(strings.ToLower(strings.TrimSpace(s)))
	if !slices.Contains(Outcomes, o) {
		names := make([]string, len(Outcomes))
		for i, o := range Outcomes {
			names[i] = string(o)
		}
		return "", fmt.Errorf("%q is not an outcome: want one of %s", s, strings.Join(names, ", "))
	}
	return o, nil
}

// Verdict is what happened to one request: its outcome and, when blocked,
// the common reason and the value the browser blamed; when failed, the
// network error.
type Verdict struct {
	Outcome Outcome `json:"outcome"`
	// Reason is the common reason a blocked request was blocked for; "" otherwise.
	Reason Reason `json:"reason,omitempty"`
	// Parameter is the value blamed (a header name, the Allow-Origin value, a
	// method), or the network error of a failed request.
	Parameter string `json:"parameter,omitempty"`
}

// String is the verdict in one line, e.g. "✗ blocked  HeaderDisallowedByPreflightResponse (x-a)".
func (v Verdict) String() string {
	switch v.Outcome {
	case Allowed:
		return "✓ allowed"
	case Opaque:
		return "✓ opaque   (no-cors: the page reads nothing)"
	case Blocked:
		s := "✗ blocked  " + string(v.Reason)
		if v.Parameter != "" {
			s += " (" + v.Parameter + ")"
		}
		return s
	case Failed:
		return "✗ failed   " + v.Parameter + " (not a CORS error)"
	case Aborted, TimedOut:
		s := fmt.Sprintf("✗ %-9sthe page ended it", v.Outcome)
		if v.Parameter != "" {
			s += " (" + v.Parameter + ")"
		}
		return s + ", not a CORS error"
	case "":
		return "(no verdict)"
	}
	return "✗ " + string(v.Outcome)
}

package harness

import (
	"net/http"
	"sort"
	"strings"

	"github.com/corslab/corslab/harness/model"
	"github.com/corslab/corslab/servers"
)

// notModelled says why the model cannot predict req ("" when it can): the
// model knows the Fetch standard's CORS rules, not the page's own tricks. A
// server that is not corslab's own API has no Policy to predict from before
// the request: it is predicted afterwards, from the headers it answered
// (predictFromResponse).
func notModelled(req Request) string {
	switch {
	case req.Environment != Modern:
		return "createCORSRequest's " + req.Environment + " environment"
	case req.Abort != "" || req.Timeout > 0:
		return "the page ends its own request"
	case req.Policy.Stall != "":
		return "the server stalls"
	case req.Policy.Later != nil:
		return "the server's answer changes between requests"
	case len(req.Policy.RawHeaders) > 0:
		return "the server writes raw headers"
	}
	// A string body changes nothing CORS sees: the Content-Type XHR and fetch
	// add for it (text/plain;charset=UTF-8) is CORS-safelisted.
	return ""
}

// predict asks the session's model what should happen to req at url.
func (s *Session) predict(req Request, url string) model.Prediction {
	if s.model == nil {
		return model.Prediction{Profile: string(s.lane.kind.Name()), NotModelled: "the model has no profile of " + s.lane.kind.Name().Title() + " yet"}
	}
	if why := notModelled(req); why != "" {
		return model.Prediction{Profile: s.model.Browser().Profile.Name, NotModelled: why}
	}
	if req.URL != "" {
		return model.Prediction{} // predicted from the response, once it is in
	}
	return s.model.Predict(url, req.method(), req.Headers, req.Credentials, req.Mode, req.UploadListener, req.Policy)
}

// predictFromResponse predicts r (a request to a server that is not
// corslab's own API) from the headers its responses carried, as the browser
// reported them or, failing that, as the server's journal recorded them:
// what the Fetch rules make of exactly those headers.
func (s *Session) predictFromResponse(r *Result) {
	if s.model == nil || r.Predicted.NotModelled != "" || r.Request.URL == "" {
		return
	}
	pol, ok := r.answeredPolicy()
	if !ok {
		r.Predicted = model.Prediction{Profile: s.model.Browser().Profile.Name,
			NotModelled: "no response headers reached " + r.browserName() + " or the journal to predict from"}
		return
	}
	req := r.Request
	r.Predicted = s.model.Predict(r.URL, req.method(), req.Headers, req.Credentials, req.Mode, req.UploadListener, pol)
	r.Predicted.FromResponse = true
}

// answeredPolicy is the servers.Policy that answers as r's server did: the
// CORS headers of its preflight and actual responses, sent as they were.
func (r *Result) answeredPolicy() (servers.Policy, bool) {
	actual, okA := r.responseHeaders(false)
	pre, okP := r.responseHeaders(true)
	if !okA && !okP {
		return servers.Policy{}, false
	}
	pol := policyOf(actual)
	if okP {
		p := policyOf(pre)
		pol.Preflight = &p
	}
	return pol, true
}

// responseHeaders returns the headers and status of the preflight's or the
// actual response, as the browser reported them, else as the journal recorded them.
func (r *Result) responseHeaders(preflight bool) (answer, bool) {
	e := r.Browser.Actual
	if preflight {
		e = r.Browser.Preflight
	}
	if e != nil && e.Status > 0 && !(preflight && r.Browser.PreflightFromJournal) {
		h := http.Header{}
		for k, v := range e.ResponseHeaders {
			for _, line := range strings.Split(v, "\n") {
				h.Add(k, line)
			}
		}
		return answer{e.Status, h}, true
	}
	entries := r.Server.Actuals()
	if preflight {
		entries = r.Server.Preflights()
	}
	for i := len(entries) - 1; i >= 0; i-- {
		if entries[i].Response != nil {
			return answer{entries[i].Status, entries[i].Response}, true
		}
	}
	return answer{}, false
}

// answer is one response's status and header.
type answer struct {
	status int
	h      http.Header
}

// policyOf is the Policy whose answer carries these headers, sent verbatim.
func policyOf(a answer) servers.Policy {
	h := a.h
	p := servers.Policy{
		AllowOrigin: h.Values("Access-Control-Allow-Origin"), AllowMethods: h.Values("Access-Control-Allow-Methods"),
		AllowHeaders: h.Values("Access-Control-Allow-Headers"), ExposeHeaders: h.Values("Access-Control-Expose-Headers"),
		AllowCredentials: h.Get("Access-Control-Allow-Credentials"), MaxAge: h.Get("Access-Control-Max-Age"), MaxAgeRaw: true,
		Status: a.status, PreflightStatus: a.status,
	}
	for k, vs := range h {
		if strings.HasPrefix(strings.ToLower(k), "access-control-") {
			continue
		}
		for _, v := range vs {
			p.Headers = append(p.Headers, servers.Header{Name: k, Value: v})
		}
	}
	sort.Slice(p.Headers, func(i, j int) bool { return p.Headers[i].Name < p.Headers[j].Name })
	return p
}

// ModelDisagreements lists where the browser (all three views) and the
// model's prediction differ; empty means the model explains what the browser did.
func (r Result) ModelDisagreements() []string {
	var readable []string
	if r.Allowed() {
		policyNames := map[string]bool{}
		pol := r.Request.Policy
		if r.Predicted.FromResponse {
			pol, _ = r.answeredPolicy()
		}
		for _, h := range pol.Headers {
			policyNames[strings.ToLower(h.Name)] = true
		}
		for k := range r.Page.Headers {
			if policyNames[k] {
				readable = append(readable, k)
			}
		}
		sort.Strings(readable)
	}
	sent := len(r.Server.Actuals()) > 0
	if !r.Server.Recorded {
		sent = r.Browser.Actual != nil && r.Browser.Actual.OnWire
	}
	return r.Predicted.Compare(r.Preflighted(), sent, r.Verdict(), readable)
}

// Vary returns the Vary header of the actual response (the browser's
// account, else the server's), and false when neither has one.
func (r Result) Vary() (string, bool) {
	a, ok := r.responseHeaders(false)
	if !ok {
		return "", false
	}
	return strings.Join(a.h.Values("Vary"), ", "), true
}

// VariesOnOrigin reports whether a Vary header value names Origin (or is *).
func VariesOnOrigin(vary string) bool {
	for _, f := range strings.Split(vary, ",") {
		if f = strings.TrimSpace(f); f == "*" || strings.EqualFold(f, "Origin") {
			return true
		}
	}
	return false
}

// reflectionWithoutVary says when the actual response named the page's own
// origin in Access-Control-Allow-Origin but did not vary on Origin: an HTTP
// cache (the browser's, or one between) may then serve this answer to
// another origin. "" when it did not.
func (r Result) reflectionWithoutVary() string {
	a, ok := r.responseHeaders(false)
	if !ok || r.PageOrigin == "" || r.PageOrigin == "null" {
		return ""
	}
	if a.h.Get("Access-Control-Allow-Origin") != r.PageOrigin || VariesOnOrigin(strings.Join(a.h.Values("Vary"), ",")) {
		return ""
	}
	if cc := strings.ToLower(a.h.Get("Cache-Control")); strings.Contains(cc, "no-store") {
		return ""
	}
	return "the response names the page's origin in Access-Control-Allow-Origin without Vary: Origin: a cache may serve it to another origin (send Vary: Origin)"
}

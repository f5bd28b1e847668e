package harness

import (
	"sort"
	"strings"

	"github.com/corslab/corslab/harness/model"
)

// notModelled says why the model cannot predict req ("" when it can): the
// model knows the Fetch standard's CORS rules, not the page's own tricks.
func notModelled(req Request) string {
	switch {
	case req.URL != "":
		return "the server is not one of corslab's origins"
	case req.Environment != Modern:
		return "createCORSRequest's " + req.Environment + " environment"
	case req.Abort != "" || req.Timeout > 0:
		return "the page ends its own request"
	case req.Policy.Stall != "":
		return "the server stalls"
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
		return model.Prediction{Profile: s.model.Profile.Name, NotModelled: why}
	}
	return s.model.Predict(url, req.method(), req.Headers, req.Credentials, req.Mode, req.UploadListener, req.Policy)
}

// ModelDisagreements lists where the browser (all three views) and the
// model's prediction differ; empty means the model explains what the browser did.
func (r Result) ModelDisagreements() []string {
	var readable []string
	if r.Allowed() {
		policyNames := map[string]bool{}
		for _, h := range r.Request.Policy.Headers {
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

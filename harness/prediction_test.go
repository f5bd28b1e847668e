package harness

import (
	"net/http"
	"strings"
	"testing"

	"github.com/corslab/corslab/harness/model"
	"github.com/corslab/corslab/servers"
)

// A transcript always says what the model predicted and calls out a disagreement.
func TestTranscriptShowsThePredictionAndCallsOutADisagreement(t *testing.T) {
	b := model.NewBrowser(model.Chromium, "http://app.test:1")
	req := Request{Method: "PUT", Policy: servers.Policy{AllowOrigin: []string{servers.Echo}}}
	r := Result{Request: req, URL: "http://api.test:2/cors/t", PageOrigin: "http://app.test:1",
		Page:    PageView{Event: "error"},
		Browser: BrowserView{Preflight: &Exchange{Method: "OPTIONS", Status: 204}, Reason: "MethodDisallowedByPreflightResponse", FailedParameter: "PUT"},
		Server:  ServerView{Recorded: true, Entries: []servers.Entry{{Method: "OPTIONS", Status: 204, Header: http.Header{"Access-Control-Request-Method": {"PUT"}}}}},
	}
	r.Predicted = b.Predict(r.URL, req.method(), req.Headers, false, "", false, req.Policy)
	s := r.String()
	if !strings.Contains(s, "model predicted: chromium: preflight, blocked MethodDisallowedByPreflightResponse (PUT)") {
		t.Errorf("transcript lacks the prediction:\n%s", s)
	}
	if strings.Contains(s, "model disagrees") {
		t.Errorf("model and browser agree, yet the transcript says they do not:\n%s", s)
	}
	r.Browser.Reason = "PreflightInvalidStatus"
	r.Browser.FailedParameter = ""
	if s := r.String(); !strings.Contains(s, `! model disagrees: verdict: model ✗ blocked MethodDisallowedByPreflightResponse (PUT), browser ✗ blocked PreflightInvalidStatus`) {
		t.Errorf("transcript does not call out the disagreement:\n%s", s)
	}
}

// Requests the model does not cover say so instead of predicting.
func TestNotModelledRequestsSayWhy(t *testing.T) {
	if why := notModelled(Request{Environment: Legacy}); why == "" {
		t.Error("the legacy environment's XDomainRequest shim is not the Fetch standard: want a reason")
	}
	if why := notModelled(Request{}); why != "" {
		t.Errorf("a plain request is modelled, got %q", why)
	}
}

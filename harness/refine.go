package harness

import (
	"strings"

	"github.com/corslab/corslab/harness/model"
	"github.com/corslab/corslab/harness/verdict"
)

// refine narrows a coarse reason (verdict.Reason.Covers: an engine that says
// only "Access-Control-Allow-Origin did not allow it") to the one the
// response shows, by the Fetch standard's CORS check (the model's) on the
// Allow-Origin and Allow-Credentials of that response: as the engine reported
// them, or else as the server's journal says it sent them. It records how in
// BrowserView.Refined and leaves the engine's own words as they are.
func (r *Result) refine() {
	b := &r.Browser
	if b.Reason.Covers() == nil {
		return
	}
	preflight := b.Reason == verdict.PreflightAllowOriginRejected
	acao, acac, from, ok := r.allowHeaders(preflight)
	if !ok {
		b.Refined = "no account of the response's headers, from " + r.browserName() + " or the server, narrows it further"
		return
	}
	f := model.CORSCheck(r.PageOrigin, acao, acac, r.Request.Credentials)
	if f == nil {
		b.Refined = "the Access-Control-Allow-Origin " + from + " passes the Fetch standard's CORS check; corslab cannot narrow it"
		return
	}
	fine := f.Reason
	if preflight {
		fine = "Preflight" + fine
	}
	b.Reason, b.FailedParameter = fine, f.FailedParameter
	b.Refined = r.browserName() + "'s words cover several reasons; the Access-Control-Allow-Origin " + from + " makes it " + string(fine)
}

// allowHeaders returns the Access-Control-Allow-Origin lines and the
// Access-Control-Allow-Credentials value of the preflight's or the actual
// response, and where they come from.
func (r *Result) allowHeaders(preflight bool) (acao []string, acac, from string, ok bool) {
	e := r.Browser.Actual
	if preflight {
		e = r.Browser.Preflight
	}
	if e != nil && e.Status > 0 && e.ResponseHeaders != nil && !r.Browser.PreflightFromJournal {
		if v, present := e.ResponseHeaders["access-control-allow-origin"]; present {
			acao = strings.Split(v, "\n")
		}
		return acao, e.ResponseHeaders["access-control-allow-credentials"], "the browser received", true
	}
	entries := r.Server.Actuals()
	if preflight {
		entries = r.Server.Preflights()
	}
	for i := len(entries) - 1; i >= 0; i-- {
		if h := entries[i].Response; h != nil {
			return h.Values("Access-Control-Allow-Origin"), h.Get("Access-Control-Allow-Credentials"), "the server sent", true
		}
	}
	return nil, "", "", false
}

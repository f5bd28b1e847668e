package firefox

import (
	"net/url"
	"regexp"
	"strings"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/verdict"
)

// category is one of Firefox's CORS console categories
// (nsIScriptError.category: the keys of Firefox's security.properties, the
// names MDN's "CORS errors" pages use).
type category string

// The categories with a meaning of their own.
const (
	// didNotSucceed is Firefox's generic "the CORS request did not succeed":
	// it follows every failed preflight's own message, and alone it is a
	// network failure (or a redirect to a URL with credentials, which has no
	// category of its own).
	didNotSucceed category = "CORSDidNotSucceed2"
	// externalRedirect: a redirect the request may not follow.
	externalRedirect category = "CORSExternalRedirectNotAllowed"
	// methodNotFound quotes no method.
	methodNotFound category = "CORSMethodNotFound"
	// preflightDidNotSucceed is a preflight whose status is not ok; Firefox
	// also logs it after a failed preflight's own message.
	preflightDidNotSucceed category = "CORSPreflightDidNotSucceed3"
)

// categories maps each category Firefox logs to the common reason it means
// on the actual request and on the preflight ("" when it is not a block of
// its own). A category not listed is verdict.Other, with the category kept as
// the engine's reason.
var categories = map[category]struct {
	actual, preflight verdict.Reason
	param             bool // the message quotes the value it blames
	preflightOnly     bool // it can only be about a preflight
}{
	"CORSMissingAllowOrigin2": {actual: verdict.MissingAllowOriginHeader, preflight: verdict.PreflightMissingAllowOriginHeader},
	// Firefox says the same for another origin and for a value that is no
	// origin at all: a coarse reason, which the harness narrows (refine.go).
	"CORSAllowOriginNotMatchingOrigin":     {actual: verdict.AllowOriginRejected, preflight: verdict.PreflightAllowOriginRejected, param: true},
	"CORSMultipleAllowOriginNotAllowed":    {actual: verdict.MultipleAllowOriginValues, preflight: verdict.PreflightMultipleAllowOriginValues},
	"CORSNotSupportingCredentials":         {actual: verdict.WildcardOriginNotAllowed, preflight: verdict.PreflightWildcardOriginNotAllowed},
	"CORSMissingAllowCredentials":          {actual: verdict.InvalidAllowCredentials, preflight: verdict.PreflightInvalidAllowCredentials},
	"CORSPreflightDidNotSucceed3":          {preflight: verdict.PreflightInvalidStatus, preflightOnly: true},
	"CORSInvalidAllowMethod":               {preflight: verdict.InvalidAllowMethodsPreflightResponse, param: true, preflightOnly: true},
	"CORSInvalidAllowHeader":               {preflight: verdict.InvalidAllowHeadersPreflightResponse, param: true, preflightOnly: true},
	methodNotFound:                         {preflight: verdict.MethodDisallowedByPreflightResponse, preflightOnly: true},
	"CORSMissingAllowHeaderFromPreflight2": {preflight: verdict.HeaderDisallowedByPreflightResponse, param: true, preflightOnly: true},
	externalRedirect:                       {actual: verdict.Other, preflight: verdict.PreflightDisallowedRedirect},
	"CORSRequestNotHttp":                   {actual: verdict.CorsDisabledScheme, preflight: verdict.CorsDisabledScheme},
	"CORSOriginHeaderNotAdded":             {actual: verdict.Other, preflight: verdict.Other},
	"CORSDisabled":                         {actual: verdict.Other, preflight: verdict.Other},
	didNotSucceed:                          {},
	// A warning: Access-Control-Allow-Headers * covered Authorization, which
	// Firefox still allows but calls deprecated.
	"CORSAllowHeaderFromPreflightDeprecation": {preflightOnly: true},
}

// reason is one CORS console message, placed on the exchange it is about.
type reason struct {
	category  category
	message   string
	warning   bool           // nsIScriptError flags 1
	preflight bool           // about the preflight, not the actual request
	common    verdict.Reason // "" for a message that is not a block
	param     string         // the value the message quotes, if any
	inferred  string         // why common was inferred from the exchange, when it was
}

// common returns the common reason c means on the preflight or the actual request.
func (c category) common(preflight bool) verdict.Reason {
	m, ok := categories[c]
	switch {
	case !ok:
		return verdict.Other
	case preflight:
		return m.preflight
	}
	return m.actual
}

var quoted = regexp.MustCompile(`‘([^’]*)’`)

// param returns the value a message blames: the first quoted value in its
// "(Reason: …)" that is not a header name.
func param(c category, msg string) string {
	if !categories[c].param {
		return ""
	}
	_, why, ok := strings.Cut(msg, "(Reason:")
	if !ok {
		return ""
	}
	for _, m := range quoted.FindAllStringSubmatch(why, -1) {
		if !strings.HasPrefix(strings.ToLower(m[1]), "access-control-") {
			return m[1]
		}
	}
	return ""
}

// ownWords is the part of a message that says why: its "(Reason: …)", or all of it.
func ownWords(msg string) string {
	if _, why, ok := strings.Cut(msg, "(Reason: "); ok {
		if i := strings.LastIndex(why, ")"); i >= 0 {
			why = why[:i]
		}
		return why
	}
	return msg
}

// classify turns a token's console messages into reasons, each placed on the
// exchange it is about: a preflight-only category, or any message while the
// preflight failed and the actual request never went out, is about the
// preflight (Firefox fails the preflight for every preflight check); the
// rest are about the actual request.
func classify(msgs []consoleMessage, pre, actual *harness.Exchange) []reason {
	if len(msgs) == 0 {
		return nil
	}
	preFailed := pre != nil && pre.Failed && (actual == nil || !actual.OnWire)
	out := make([]reason, 0, len(msgs))
	for _, m := range msgs {
		c := category(m.Category)
		onPre := categories[c].preflightOnly || preFailed
		r := reason{category: c, message: m.Message, warning: m.Flags&1 != 0, preflight: onPre, param: param(c, m.Message)}
		if !r.warning {
			r.common = c.common(onPre)
		}
		switch {
		case r.common == verdict.Other:
			r.param = c.String() + ": " + ownWords(m.Message)
		case c == methodNotFound && pre != nil:
			// The message quotes no method: the one Firefox checked is the one its preflight asked for.
			r.param = pre.RequestHeaders["access-control-request-method"]
		}
		out = append(out, r)
	}
	inferRedirectCredentials(out, actual)
	return out
}

func (c category) String() string { return string(c) }

// inferRedirectCredentials names the block Firefox logs only as the generic
// didNotSucceed: a redirect whose Location carries user:password@, which the
// request may not follow. The name comes from the exchange, and the reason
// says so.
func inferRedirectCredentials(rs []reason, actual *harness.Exchange) {
	if actual == nil || !actual.Failed {
		return
	}
	for _, r := range rs {
		if r.common != "" {
			return
		}
	}
	loc := ""
	if len(actual.Redirects) > 0 {
		loc = actual.URL // the hop Firefox refused to follow
	} else if actual.Status >= 300 && actual.Status < 400 {
		loc = actual.ResponseHeaders["location"]
	}
	u, err := url.Parse(loc)
	if err != nil || u.User == nil {
		return
	}
	for i := range rs {
		if rs[i].category == didNotSucceed {
			rs[i].common = verdict.RedirectContainsCredentials
			rs[i].inferred = "RedirectContainsCredentials inferred from the redirect's Location"
			return
		}
	}
}

// engineReason is the reason in Firefox's words: its category, and how
// corslab inferred the common reason when it did.
func (r reason) engineReason() string {
	if r.inferred != "" {
		return r.category.String() + " (" + r.inferred + ")"
	}
	return r.category.String()
}

package webkit

import (
	"regexp"
	"strings"

	"github.com/corslab/corslab/harness/verdict"
)

// sentences maps WebKit's CORS sentences (WebCore's CrossOriginAccessControl
// and CrossOriginPreflightChecker, as WebKitGTK 2.50 words them; TestReasons
// produces each one) to the common reasons. The first submatch, if any, is
// the value WebKit blames.
var sentences = []struct {
	re     *regexp.Regexp
	reason verdict.Reason
}{
	// One sentence for a missing, another or an invalid Allow-Origin: the
	// harness narrows it by the response (harness/refine.go).
	{regexp.MustCompile(`^Origin \S+ is not allowed by Access-Control-Allow-Origin\. Status code: \d+$`), verdict.AllowOriginRejected},
	{regexp.MustCompile(`^Cannot use wildcard in Access-Control-Allow-Origin when credentials flag is true\.$`), verdict.WildcardOriginNotAllowed},
	{regexp.MustCompile(`^Access-Control-Allow-Origin cannot contain more than one origin\.$`), verdict.MultipleAllowOriginValues},
	{regexp.MustCompile(`^Credentials flag is true, but Access-Control-Allow-Credentials is not "true"\.$`), verdict.InvalidAllowCredentials},
	// WebKit checks the preflight's status before its headers, and calls a
	// redirected preflight a status failure too.
	{regexp.MustCompile(`^Preflight response is not successful\. Status code: \d+$`), verdict.PreflightInvalidStatus},
	{regexp.MustCompile(`^Method (\S+) is not allowed by Access-Control-Allow-Methods\.$`), verdict.MethodDisallowedByPreflightResponse},
	{regexp.MustCompile(`^Request header field (\S+) is not allowed by Access-Control-Allow-Headers\.$`), verdict.HeaderDisallowedByPreflightResponse},
	{regexp.MustCompile(`^Header Access-Control-Allow-Methods has an invalid value: (.*)$`), verdict.InvalidAllowMethodsPreflightResponse},
	{regexp.MustCompile(`^Header Access-Control-Allow-Headers has an invalid value: (.*)$`), verdict.InvalidAllowHeadersPreflightResponse},
}

// redirectDenied is the frame WebKit puts around a reason found on a
// redirect hop; its inner sentence is the reason.
var redirectDenied = regexp.MustCompile(`^Cross-origin redirection to \S+ denied by Cross-Origin Resource Sharing policy: (.*)$`)

// redirectCredentials is the inner sentence of a redirect to a URL with user:password@.
var redirectCredentials = regexp.MustCompile(`^redirection URL (\S+) has credentials$`)

// mixedContent is the start of WebKit's message for a request an https page
// may not send to an http URL; it is not a CORS failure.
var mixedContent = regexp.MustCompile(`^\[blocked\] The page at \S+ requested insecure content from `)

func isMixedContent(text string) bool { return mixedContent.MatchString(text) }

// notCORSSentences are sentences WebKit reports as access-control failures
// (a security console message) for what the page itself asked: fetch's
// redirect "error" meeting a redirect. They are network errors in the
// Fetch standard, and no CORS header changes them.
var notCORSSentences = regexp.MustCompile(`^Not allowed to follow a redirection while loading `)

func notCORS(text string) bool { return notCORSSentences.MatchString(text) }

// parseReason returns the common reason of WebKit's CORS sentence and the
// value it blames ("" when it names none); ok is false for a sentence this
// table does not know.
func parseReason(text string) (reason verdict.Reason, param string, ok bool) {
	if m := redirectDenied.FindStringSubmatch(text); m != nil {
		if c := redirectCredentials.FindStringSubmatch(m[1]); c != nil {
			return verdict.RedirectContainsCredentials, c[1], true
		}
		return parseReason(m[1])
	}
	for _, s := range sentences {
		if m := s.re.FindStringSubmatch(text); m != nil {
			if len(m) > 1 {
				param = m[1]
			}
			if s.reason == verdict.HeaderDisallowedByPreflightResponse {
				// Header names are case-insensitive; WebKit repeats the
				// page's spelling, the common vocabulary blames the
				// lower-case name (as Chromium does).
				param = strings.ToLower(param)
			}
			return s.reason, param, true
		}
	}
	return "", "", false
}

// inPreflight returns reason as it reads when WebKit found it on the
// preflight's answer: WebKit words the preflight's failures like the actual
// response's, so the caller tells them apart by the journal (a preflight
// and no actual request).
func inPreflight(reason verdict.Reason) verdict.Reason {
	switch reason {
	case verdict.AllowOriginRejected:
		return verdict.PreflightAllowOriginRejected
	case verdict.WildcardOriginNotAllowed:
		return verdict.PreflightWildcardOriginNotAllowed
	case verdict.MultipleAllowOriginValues:
		return verdict.PreflightMultipleAllowOriginValues
	case verdict.InvalidAllowCredentials:
		return verdict.PreflightInvalidAllowCredentials
	}
	return reason
}

// plainWords returns WebKit's sentence without the URLs and origins in it
// (they change with every run's ports and tokens): a URL goes with the word
// that introduces it ("at", "from", "to"), an origin after "Origin" goes
// alone. "Origin null" stays: null is the finding, not noise.
func plainWords(text string) string {
	words := strings.Fields(text)
	out := make([]string, 0, len(words))
	for _, w := range words {
		bare := strings.TrimRight(w, ".,;:")
		if !strings.HasPrefix(bare, "http://") && !strings.HasPrefix(bare, "https://") {
			out = append(out, w)
			continue
		}
		if n := len(out); n > 0 {
			switch out[n-1] {
			case "at", "from", "to":
				out = out[:n-1]
			}
		}
		if tail := w[len(bare):]; tail != "" && len(out) > 0 {
			out[len(out)-1] += tail
		}
	}
	return strings.Join(out, " ")
}

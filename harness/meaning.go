package harness

import "github.com/corslab/corslab/harness/verdict"

// Meaning says in plain words why r ended as it did: for a block, the
// reason table's meaning (verdict.Info); otherwise what the page and the
// browser saw. Explain says what the server would have to change.
func (r Result) Meaning() string {
	v := r.Verdict()
	p := r.Page
	switch v.Outcome {
	case verdict.Blocked:
		return v.Reason.Meaning(r.Words())
	case verdict.Opaque:
		return "A no-cors fetch gets an opaque response: no CORS check ran, and the page can read nothing (status 0, no text, no headers)."
	case verdict.Allowed:
		switch {
		case r.Browser.Actual != nil && r.Browser.Actual.FromCache:
			return "The browser answered from its HTTP cache (the server was not asked), and the cached response allowed the page's origin."
		case r.Preflighted():
			return "The preflight allowed the method and headers, and the response named the page's origin (or *), so the page can read it."
		case r.PreflightFromCache():
			return "The browser reused the cached preflight answer, sent the request at once, and the response allowed the page's origin."
		}
		return "A simple request goes out at once; the response allowed the page's origin (or *), so the page can read it."
	case verdict.Aborted:
		return "The page aborted its own request; that is not a CORS error."
	case verdict.TimedOut:
		return "The request took longer than the page's timeout; that is not a CORS error."
	case verdict.Unsupported:
		return "createCORSRequest found neither an XMLHttpRequest with withCredentials nor XDomainRequest, so it returned null."
	case verdict.Threw:
		return "The page's call threw before anything was sent: " + p.Error
	}
	if v.Parameter != "" {
		return "A network failure (" + v.Parameter + "), not a CORS error: the page cannot tell them apart, the browser can."
	}
	return "The page saw " + p.Event + "."
}

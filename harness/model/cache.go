package model

import "strconv"

// Chromium's preflight-cache limits (CHROME.md, measured in Chromium 156).
const (
	// DefaultPreflightMaxAge is how long Chromium caches a preflight answer
	// with no (or an unparsable) Access-Control-Max-Age, in seconds.
	DefaultPreflightMaxAge = 5
	// MaxPreflightMaxAge is Chromium's cap on Access-Control-Max-Age, in seconds.
	MaxPreflightMaxAge = 7200
)

// PreflightCacheSeconds is how long Chromium keeps a successful preflight
// answer whose Access-Control-Max-Age header is maxAge (present says whether
// the header was sent): absent or unparsable means 5 s, 0 or negative means
// not cached, and anything above 7200 is capped at 7200.
func PreflightCacheSeconds(maxAge string, present bool) int {
	if !present {
		return DefaultPreflightMaxAge
	}
	n, err := strconv.ParseInt(maxAge, 10, 64)
	switch {
	case err != nil && n == 0:
		return DefaultPreflightMaxAge
	case n <= 0:
		return 0
	case n > MaxPreflightMaxAge:
		return MaxPreflightMaxAge
	}
	return int(n)
}

// Package model holds the Fetch standard's CORS rules as plain Go: which
// requests need a preflight, and (as it grows) which responses pass. It
// predicts what a browser should do, as a second opinion to what Chrome did.
// It imports nothing but the standard library and corslab's shared types.
package model

import (
	"strings"

	"github.com/corslab/corslab/servers"
)

// IsSafelistedMethod implements "CORS-safelisted method": GET, HEAD or POST, byte-case-sensitive.
func IsSafelistedMethod(m string) bool {
	return m == "GET" || m == "HEAD" || m == "POST"
}

// IsSafelistedRequestHeader implements "CORS-safelisted request-header" (Fetch §2.2.2) for one header.
func IsSafelistedRequestHeader(name, value string) bool {
	if len(value) > 128 {
		return false
	}
	switch strings.ToLower(name) {
	case "accept":
		return !hasUnsafeByte(value)
	case "accept-language", "content-language":
		for i := 0; i < len(value); i++ {
			c := value[i]
			if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || strings.IndexByte(" *,-.;=", c) >= 0) {
				return false
			}
		}
		return true
	case "content-type":
		if hasUnsafeByte(value) {
			return false
		}
		mime := strings.ToLower(strings.TrimSpace(strings.SplitN(value, ";", 2)[0]))
		return mime == "application/x-www-form-urlencoded" || mime == "multipart/form-data" || mime == "text/plain"
	case "range":
		return isSimpleRange(value)
	}
	return false
}

// hasUnsafeByte implements "CORS-unsafe request-header byte".
func hasUnsafeByte(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < 0x20 && c != 0x09 || c == 0x7f || strings.IndexByte("\"():<>?@[\\]{}", c) >= 0 {
			return true
		}
	}
	return false
}

// isSimpleRange implements "simple range header value": bytes=N- or bytes=N-M.
func isSimpleRange(v string) bool {
	rest, ok := strings.CutPrefix(v, "bytes=")
	if !ok {
		return false
	}
	start, end, ok := strings.Cut(rest, "-")
	if !ok || start == "" && end == "" || !digits(start) || !digits(end) || start == "" {
		return false
	}
	return !(start != "" && end != "" && len(start) <= 18 && len(end) <= 18 && atoi(start) > atoi(end))
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func atoi(s string) int64 {
	var n int64
	for i := 0; i < len(s); i++ {
		n = n*10 + int64(s[i]-'0')
	}
	return n
}

// UnsafeRequestHeaderNames implements "CORS-unsafe request-header names": the
// sorted, lower-cased, de-duplicated names a preflight lists in
// Access-Control-Request-Headers. Safelisted headers whose values total more
// than 1024 bytes all become unsafe.
func UnsafeRequestHeaderNames(headers []servers.Header) []string {
	var unsafe []string
	total := 0
	var safe []string
	for _, h := range headers {
		n := strings.ToLower(h.Name)
		if IsSafelistedRequestHeader(h.Name, h.Value) {
			safe = append(safe, n)
			total += len(h.Value)
		} else {
			unsafe = append(unsafe, n)
		}
	}
	if total > 1024 {
		unsafe = append(unsafe, safe...)
	}
	return sortedUnique(unsafe)
}

func sortedUnique(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	// insertion sort: the lists are short
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// NeedsPreflight implements the CORS-preflight condition of HTTP-network-or-cache
// fetch: a non-safelisted method, a CORS-unsafe request header, or an upload
// listener on an XHR. mode "no-cors" never preflights.
func NeedsPreflight(method string, headers []servers.Header, uploadListener bool, mode string) bool {
	if mode == "no-cors" {
		return false
	}
	return !IsSafelistedMethod(method) || len(UnsafeRequestHeaderNames(headers)) > 0 || uploadListener
}

// Package model holds the Fetch standard's CORS rules as plain Go: which
// requests need a preflight, which responses pass the CORS check and the
// preflight checks, what the page may read and what the preflight cache does.
// It predicts what a browser should do, as a second opinion to what Chrome did;
// a Profile (Standard or Chrome) says which browser it predicts.
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

// NormalizeMethod implements "normalize a method" (Fetch §2.2.1), which XHR's
// open() and fetch's Request constructor apply: DELETE, GET, HEAD, OPTIONS, POST
// and PUT are upper-cased when they match byte-case-insensitively; any other
// method (PATCH included) is sent as written.
func NormalizeMethod(m string) string {
	switch u := strings.ToUpper(m); u {
	case "DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT":
		return u
	}
	return m
}

// IsSafelistedRequestHeader implements "CORS-safelisted request-header" (Fetch §2.2.2) for one header.
func IsSafelistedRequestHeader(name, value string) bool {
	return Standard.isSafelistedRequestHeader(name, value)
}

func (p Profile) isSafelistedRequestHeader(name, value string) bool {
	if len(value) > 128 {
		return false
	}
	if p.SafelistedClientHints[strings.ToLower(name)] {
		return true
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
		switch essence, ok := mimeEssence(value); {
		case !ok:
			return false
		default:
			return essence == "application/x-www-form-urlencoded" || essence == "multipart/form-data" || essence == "text/plain"
		}
	case "range":
		return !p.RangeNotSafelisted && isSimpleRange(value)
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

// mimeEssence implements the part of "parse a MIME type" (MIME Sniffing §4.4)
// that decides the essence: type "/" subtype, both tokens, lower-cased. It
// reports false where the standard's parser returns failure; parameters never
// make it fail.
func mimeEssence(v string) (string, bool) {
	v = strings.Trim(v, " \t\r\n")
	typ, rest, ok := strings.Cut(v, "/")
	if !ok || typ == "" || !isToken(typ) {
		return "", false
	}
	sub, _, _ := strings.Cut(rest, ";")
	sub = strings.TrimRight(sub, " \t\r\n")
	if sub == "" || !isToken(sub) {
		return "", false
	}
	return strings.ToLower(typ + "/" + sub), true
}

// isToken reports whether s is an HTTP token (RFC 9110 §5.6.2).
func isToken(s string) bool {
	return s != "" && servers.CheckHeaderName(s) == nil
}

// UnsafeRequestHeaderNames implements "CORS-unsafe request-header names": the
// sorted, lower-cased, de-duplicated names a preflight lists in
// Access-Control-Request-Headers. Safelisted headers whose values total more
// than 1024 bytes all become unsafe.
func UnsafeRequestHeaderNames(headers []servers.Header) []string {
	return Standard.unsafeRequestHeaderNames(headers)
}

func (p Profile) unsafeRequestHeaderNames(headers []servers.Header) []string {
	var unsafe []string
	total := 0
	var safe []string
	for _, h := range combine(headers) {
		n := strings.ToLower(h.Name)
		if p.isSafelistedRequestHeader(h.Name, h.Value) {
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

// combine implements "combine" for a header list the page built with
// setRequestHeader or fetch's headers: one entry per name (byte-case-insensitive,
// first spelling kept), repeated values joined with ", ".
func combine(headers []servers.Header) []servers.Header {
	var out []servers.Header
	at := map[string]int{}
	for _, h := range headers {
		k := strings.ToLower(h.Name)
		if i, ok := at[k]; ok {
			out[i].Value += ", " + h.Value
			continue
		}
		at[k] = len(out)
		out = append(out, h)
	}
	return out
}

// NeedsPreflight implements the CORS-preflight condition of main fetch (Fetch
// §4.1 step 12 "use-CORS-preflight flag … or … not a CORS-safelisted method …
// or CORS-unsafe request-header names … is not empty"): a non-safelisted
// method (after normalization), a CORS-unsafe request header, or an upload
// listener on an XHR. mode "no-cors" never preflights.
func NeedsPreflight(method string, headers []servers.Header, uploadListener bool, mode string) bool {
	return Standard.needsPreflight(method, headers, uploadListener, mode)
}

func (p Profile) needsPreflight(method string, headers []servers.Header, uploadListener bool, mode string) bool {
	if mode == "no-cors" {
		return false
	}
	return !IsSafelistedMethod(NormalizeMethod(method)) || len(p.unsafeRequestHeaderNames(headers)) > 0 || uploadListener
}

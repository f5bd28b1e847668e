package model

import (
	"strings"
	"testing"
)

// FuzzParseHeaderList checks "extracting header list values": whatever the
// server sends, a success is a list of tokens that survives a round trip.
// Run: go test -run '^$' -fuzz FuzzParseHeaderList ./harness/model
func FuzzParseHeaderList(f *testing.F) {
	for _, s := range []string{"", "PUT", "PUT, DELETE", " a ,,b\t", "*", "PUT GET", "x-a,\"q\"", ",", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		list, ok := ParseHeaderList(v, true)
		if !ok {
			if list != nil {
				t.Fatalf("ParseHeaderList(%q) failed but returned %q", v, list)
			}
			return
		}
		if list == nil {
			t.Fatalf("ParseHeaderList(%q) succeeded with null: a present header is a list", v)
		}
		for _, e := range list {
			if !isToken(e) {
				t.Fatalf("ParseHeaderList(%q) returned the non-token %q", v, e)
			}
		}
		again, ok := ParseHeaderList(strings.Join(list, ", "), true)
		if !ok || strings.Join(again, ",") != strings.Join(list, ",") {
			t.Fatalf("round trip of %q: %q then %q", v, list, again)
		}
		// The same header, sent as the Chrome profile reads it, gives the same readable set.
		_ = ReadableResponseHeaders(list, []string{v}, false)
	})
}

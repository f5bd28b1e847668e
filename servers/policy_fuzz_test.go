package servers

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// FuzzParsePolicy checks policy decoding on any query string: it either
// fails with a PolicyError naming the field, or yields a valid policy that
// round-trips through Query.
// Run: go test -run '^$' -fuzz FuzzParsePolicy ./servers
func FuzzParsePolicy(f *testing.F) {
	for _, s := range []string{
		"", "allow-origin=%24origin", "allow-origin=*&allow-origin=null&allow-credentials=true",
		"max-age=abc", "max-age=abc&max-age-raw=1", "status=99", "header=X-A%3A1&header=bad",
		"preflight.allow-methods=PUT&preflight.preflight-status=404", "preflight.preflight.status=1",
		"allow-headers=a%0d%0ab", "stall=headers", "unknown=1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		p, err := ParsePolicy(q)
		if err != nil {
			var pe *PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("ParsePolicy(%q): error %v is not a PolicyError", raw, err)
			}
			if _, given := q[pe.Field]; !given && pe.Field != "preflight" && !validField(pe.Field) {
				t.Fatalf("ParsePolicy(%q): error names %q, neither a parameter given nor a policy field", raw, pe.Field)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("ParsePolicy(%q) returned an invalid policy: %v", raw, err)
		}
		again, err := ParsePolicy(p.Query())
		if err != nil {
			t.Fatalf("re-parse of %q: %v", p.Query().Encode(), err)
		}
		if !reflect.DeepEqual(again, p) {
			t.Fatalf("round trip of %q:\n got  %#v\n want %#v", raw, again, p)
		}
	})
}

// validField reports whether name is one of the Policy's URL parameters (with or without the preflight prefix).
func validField(name string) bool {
	var p Policy
	if rest, ok := strings.CutPrefix(name, preflightPrefix); ok {
		name = rest
	}
	err := p.set(name, []string{"0"})
	return err == nil || err.Error() != "unknown policy parameter"
}

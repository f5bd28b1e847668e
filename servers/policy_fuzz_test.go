package servers

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// FuzzParsePolicy checks policy decoding on any query string: it either
// fails with a FieldError naming the field, or yields a valid policy that
// round-trips through Query.
// Run: go test -run '^$' -fuzz FuzzParsePolicy ./servers
func FuzzParsePolicy(f *testing.F) {
	for _, s := range []string{
		"", "allow-origin=%24origin", "allow-origin=*&allow-origin=null&allow-credentials=true",
		"max-age=abc", "max-age=abc&max-age-raw=1", "status=99", "header=X-A%3A1&header=bad",
		"preflight.allow-methods=PUT&preflight.preflight-status=404", "preflight.preflight.status=1",
		"allow-headers=a%0d%0ab", "stall=headers", "unknown=1",
		"redirect-status=307&redirect-then.allow-origin=*&redirect-then.status=201", "redirect-then.preflight.status=1",
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
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("ParsePolicy(%q): error %v is not a FieldError", raw, err)
			}
			if _, given := q[fe.Key]; !given && !validField(fe.Key) {
				t.Fatalf("ParsePolicy(%q): error names %q, neither a parameter given nor a policy field", raw, fe.Key)
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

// validField reports whether key names one of the Policy's fields, through its sections (preflight., redirect-then.).
func validField(key string) bool {
	for {
		head, rest, nested := strings.Cut(key, ".")
		f, ok := PolicyFields.Lookup(head)
		if !ok {
			return false
		}
		if !nested {
			return true
		}
		if f.Kind() != KindSection {
			return false
		}
		key = rest
	}
}

package probe

import (
	"slices"
	"testing"
)

func TestAttackersFromAnHTTPSSubdomain(t *testing.T) {
	as, skipped, err := Attackers("https://app.example.com")
	if err != nil {
		t.Fatal(err)
	}
	if len(skipped) != 0 {
		t.Errorf("skipped %v", skipped)
	}
	want := []Attacker{
		{"https://evil.test", ReflectedOrigin},
		{"null", NullOrigin},
		{"https://app.example.com.evil.test", PrefixMatch},
		{"https://evilexample.com", SuffixMatch},
		{"https://appxexample.com", UnescapedDot},
		{"https://evilapp.example.com.evil.test", SubstringMatch},
		{"http://app.example.com", HTTPOriginTrusted},
		{"https://evil.example.com", AnySubdomain},
		{"https://evil.app.example.com", AnySubdomain},
	}
	if !slices.Equal(as[:len(want)], want) {
		t.Errorf("got\n%v\nwant\n%v", as[:len(want)], want)
	}
	for _, a := range as[len(want):] {
		if a.Class != ThirdPartyOrigin {
			t.Errorf("extra %v", a)
		}
	}
}

func TestAttackersKeepThePortAndSkipWhatCannotBeDerived(t *testing.T) {
	as, skipped, err := Attackers("http://127.0.0.1:3000")
	if err != nil {
		t.Fatal(err)
	}
	var classes []Class
	for _, s := range skipped {
		classes = append(classes, s.Class)
	}
	for _, c := range []Class{PrefixMatch, SubstringMatch, SuffixMatch, UnescapedDot, AnySubdomain, HTTPOriginTrusted} {
		if !slices.Contains(classes, c) {
			t.Errorf("%s not skipped: %v", c, skipped)
		}
	}
	if as[0].Origin != "https://evil.test" || as[1].Origin != "null" {
		t.Errorf("got %v", as)
	}
	as, _, _ = Attackers("https://example.co.uk:8443")
	want := map[Class]string{SuffixMatch: "https://evilexample.co.uk:8443", AnySubdomain: "https://evil.example.co.uk:8443", PrefixMatch: "https://example.co.uk.evil.test:8443"}
	for _, a := range as {
		if w, ok := want[a.Class]; ok && a.Origin != w {
			t.Errorf("%s: %s, want %s", a.Class, a.Origin, w)
		}
	}
}

func TestLookAlike(t *testing.T) {
	for host, want := range map[string]string{
		"app.example.com":     "appxexample.com",
		"www.app.example.com": "www.appxexample.com",
		"example.com":         "",
		"api.example.co.uk":   "apixexample.co.uk",
	} {
		site, err := registrable(host)
		if err != nil {
			t.Fatal(err)
		}
		if got := lookAlike(host, site); got != want {
			t.Errorf("lookAlike(%s) = %q, want %q", host, got, want)
		}
	}
}

func TestBadTrustedOrigin(t *testing.T) {
	for _, o := range []string{"app.example.com", "https://app.example.com/login", "ftp://x.y", ""} {
		if _, _, err := Attackers(o); err == nil {
			t.Errorf("%q accepted", o)
		}
	}
}

package verdict

import (
	"regexp"
	"strings"
	"testing"
)

var placeholder = regexp.MustCompile(`\{[a-z]+\}`)

// Every row of the reason table says what it means and what to send, with
// only the placeholders Words fills.
func TestEveryReasonHasItsWords(t *testing.T) {
	known := map[string]bool{"{origin}": true, "{param}": true, "{acao}": true, "{sent}": true, "{status}": true}
	seen := map[Reason]bool{}
	for _, in := range All() {
		if seen[in.Reason] {
			t.Errorf("%s is in the table twice", in.Reason)
		}
		seen[in.Reason] = true
		if in.Means == "" || in.Fix == "" {
			t.Errorf("%s: empty meaning or remedy", in.Reason)
		}
		for _, text := range []string{in.Means, in.Fix} {
			if strings.Count(text, "{") != strings.Count(text, "}") {
				t.Errorf("%s: unbalanced placeholder in %q", in.Reason, text)
			}
			for _, p := range placeholder.FindAllString(text, -1) {
				if !known[p] {
					t.Errorf("%s: unknown placeholder %s", in.Reason, p)
				}
			}
		}
		if strings.Contains(in.Fix, "{sent}") && in.Header == "" {
			t.Errorf("%s: its remedy shows the header it sent, but it names no header", in.Reason)
		}
	}
	w := Words{Origin: "http://a.test:1", Parameter: "x-a", Sent: "PUT"}
	if got := HeaderDisallowedByPreflightResponse.Remedy(w); !strings.Contains(got, "must list x-a in Access-Control-Allow-Headers") || !strings.Contains(got, "“PUT”") {
		t.Errorf("remedy = %q", got)
	}
	if got := MissingAllowOriginHeader.Remedy(Words{Origin: "http://a.test:1", Credentials: true}); strings.Contains(got, "(or *)") {
		t.Errorf("a credentialed request may not be told to send *: %q", got)
	}
}

func TestParseEngines(t *testing.T) {
	if got, err := ParseEngines("all"); err != nil || len(got) != 3 {
		t.Errorf("all: %v %v", got, err)
	}
	if got, err := ParseEngines(" Firefox, chrome ,firefox"); err != nil || len(got) != 2 || got[0] != Firefox || got[1] != Chromium {
		t.Errorf("got %v %v", got, err)
	}
	if _, err := ParseEngines("safari"); err == nil || !strings.Contains(err.Error(), "chromium, firefox, webkit or all") {
		t.Errorf("safari: %v", err)
	}
}

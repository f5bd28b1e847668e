package servers

import (
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func TestRedirectRoundTripsThroughTheURL(t *testing.T) {
	p := Policy{AllowOrigin: []string{Echo}, Redirect: &Redirect{Status: 307, To: "http://u:p@127.0.0.1:5",
		Then: &Policy{AllowOrigin: []string{"*"}, Redirect: &Redirect{Status: 302}}}}
	got, err := ParsePolicy(p.Query())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, p) {
		t.Errorf("round trip of %s:\n got  %#v\n want %#v", p.Query().Encode(), got, p)
	}
}

func TestBadRedirectsNameTheField(t *testing.T) {
	cases := []struct{ query, field, says string }{
		{"redirect-status=200", "redirect-status", "301, 302"},
		{"redirect-status=302&redirect-to=" + url.QueryEscape("http://a.test/x"), "redirect-to", "no path"},
		{"redirect-status=302&redirect-to=" + url.QueryEscape("javascript:alert(1)"), "redirect-to", "http or https origin"},
		{"preflight.redirect-status=1", "preflight.redirect-status", "301, 302"},
		{"redirect-status=302&redirect-then.max-age=x", "redirect-then.max-age", "not a whole number"},
		{"redirect-status=302&redirect-then=" + url.QueryEscape("max-age=x"), "redirect-then", "give its fields as redirect-then.<field>"},
	}
	for _, c := range cases {
		q, _ := url.ParseQuery(c.query)
		_, err := ParsePolicy(q)
		if err == nil || !strings.Contains(err.Error(), `"`+c.field+`"`) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: error %v does not name field %q and say %q", c.query, err, c.field, c.says)
		}
	}
}

func TestTheAPIRedirectsOnlyToItsOwnOrigins(t *testing.T) {
	o, err := Start(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(p Policy) *http.Response {
		t.Helper()
		res, err := client.Get(o.API.URL + "/cors/tok/x?" + p.Query().Encode())
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	res := get(Policy{Redirect: &Redirect{Status: 302, To: o.Other.URL, Then: &Policy{AllowOrigin: []string{"*"}}}})
	if want := o.Other.URL + "/cors/tok/x?allow-origin=%2A"; res.StatusCode != 302 || res.Header.Get("Location") != want {
		t.Errorf("got %d Location %q, want 302 %q", res.StatusCode, res.Header.Get("Location"), want)
	}
	if res := get(Policy{Redirect: &Redirect{Status: 302, To: "http://127.0.0.2:1"}}); res.StatusCode != 400 {
		t.Errorf("a redirect to a foreign origin got %d, want 400", res.StatusCode)
	}
}

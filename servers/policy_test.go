package servers

import (
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func TestPolicyRoundTripsThroughTheURL(t *testing.T) {
	policies := []Policy{
		{},
		{AllowOrigin: []string{Echo}},
		{AllowOrigin: []string{"*", "http://a.test"}, AllowMethods: []string{"POST, GET"}, AllowHeaders: []string{"NCZ", ""},
			ExposeHeaders: []string{"X-A"}, AllowCredentials: "True", MaxAge: "1728000", Status: 404, PreflightStatus: 200,
			Headers: []Header{{"Vary", "Origin"}}, SetCookie: []string{"a=b; SameSite=None; Secure"}, Body: "x y", Stall: StallHeaders},
		{MaxAge: "garbage", MaxAgeRaw: true, Preflight: &Policy{AllowOrigin: []string{"null"}, PreflightStatus: 302}},
	}
	for _, p := range policies {
		got, err := ParsePolicy(p.Query())
		if err != nil {
			t.Fatalf("ParsePolicy(%v): %v", p.Query().Encode(), err)
		}
		if !reflect.DeepEqual(got, p) {
			t.Errorf("round trip of %s:\n got  %#v\n want %#v", p.Query().Encode(), got, p)
		}
	}
}

func TestBadPoliciesNameTheField(t *testing.T) {
	cases := []struct {
		query string
		field string
		says  string
	}{
		{"max-age=soon", "max-age", "not a whole number"},
		{"status=99", "status", "200-999"},
		{"preflight-status=abc", "preflight-status", "not a whole number"},
		{"status=200&status=201", "status", "given 2 times"},
		{"allow-origin=" + url.QueryEscape("http://a.test\r\nSet-Cookie: x=y"), "allow-origin", "header injection"},
		{"header=" + url.QueryEscape("Bad Name:v"), "header", "invalid byte"},
		{"header=novalue", "header", "not Name:Value"},
		{"allow-orgin=*", "allow-orgin", "unknown field; known: allow-origin"},
		{"stall=forever", "stall", `must be one of "", "headers"`},
		{"preflight.max-age=x", "preflight.max-age", "not a whole number"},
		{"preflight.preflight.status=200", "preflight.preflight", "cannot have its own preflight"},
	}
	for _, c := range cases {
		q, _ := url.ParseQuery(c.query)
		_, err := ParsePolicy(q)
		if err == nil {
			t.Errorf("%s: no error", c.query)
			continue
		}
		if !strings.Contains(err.Error(), `"`+c.field+`"`) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: error %q does not name field %q and say %q", c.query, err, c.field, c.says)
		}
	}
}

func TestBadPolicyInURLGets400NamingTheField(t *testing.T) {
	o, err := Start(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	resp, err := http.Get(o.API.URL + "/cors/tok1?max-age=soon")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `policy field "max-age"`) {
		t.Fatalf("got %d %q, want 400 naming max-age", resp.StatusCode, body)
	}
	if e := o.Journal.Entries("tok1"); len(e) != 1 || e[0].Status != 400 {
		t.Errorf("journal has %+v, want the one 400 request", e)
	}
}

func TestAPIAnswersByPolicy(t *testing.T) {
	o, err := Start(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	p := Policy{AllowOrigin: []string{Echo}, AllowMethods: []string{"PUT"}, MaxAge: "5", ExposeHeaders: []string{"X-A"},
		SetCookie: []string{"a=b"}, Preflight: &Policy{AllowOrigin: []string{Echo}, AllowMethods: []string{"PUT"}, PreflightStatus: 200}}
	u := o.API.URL + "/cors/tok2?" + p.Query().Encode()
	req, _ := http.NewRequest("OPTIONS", u, nil)
	req.Header.Set("Origin", "http://page.test:1")
	req.Header.Set("Access-Control-Request-Method", "PUT")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "http://page.test:1" ||
		resp.Header.Get("Access-Control-Allow-Methods") != "PUT" || resp.Header.Get("Access-Control-Max-Age") != "" {
		t.Errorf("preflight answered %d %v; want the preflight policy (200, no Max-Age)", resp.StatusCode, resp.Header)
	}
	req, _ = http.NewRequest("PUT", u, nil)
	req.Header.Set("Origin", "http://page.test:1")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Expose-Headers") != "X-A" || resp.Header.Get("Set-Cookie") != "a=b; Path=/cors/tok2" ||
		resp.Header.Get("Access-Control-Allow-Methods") != "" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("actual response headers %v", resp.Header)
	}
	e := o.Journal.Entries("tok2")
	if len(e) != 2 || !e[0].IsPreflight() || e[1].Method != "PUT" || e[1].Origin() != "http://page.test:1" {
		t.Errorf("journal %+v", e)
	}
}

func TestServersBindLoopbackOnly(t *testing.T) {
	_, err := Start(Options{Bind: "0.0.0.0"})
	if err == nil || !strings.Contains(err.Error(), "not loopback") {
		t.Fatalf("Start on 0.0.0.0: %v, want a refusal", err)
	}
	_, err = Start(Options{Bind: "example.com"})
	if err == nil || !strings.Contains(err.Error(), "not an IP address") {
		t.Fatalf("Start on a name: %v", err)
	}
	o, err := Start(Options{Names: true, TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if !strings.HasPrefix(o.App.URL, "https://app.test:") || !strings.HasPrefix(o.API.URL, "https://api.test:") ||
		o.SPKI == "" || o.HostRule != "MAP *.test 127.0.0.1" || !strings.HasPrefix(o.API.Addr, "127.0.0.1:") {
		t.Errorf("named TLS origins: %+v %+v %q %q", o.App, o.API, o.SPKI, o.HostRule)
	}
}

func TestBadPortsSayWhichOrigin(t *testing.T) {
	busy, err := Start(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	_, port, _ := strings.Cut(busy.API.Addr, ":")
	n := 0
	for _, c := range port {
		n = n*10 + int(c-'0')
	}
	cases := []struct {
		opts Options
		says []string
	}{
		{Options{APIPort: n}, []string{"API origin (APIPort)", "address already in use"}},
		{Options{AppPort: -1}, []string{"page origin (AppPort)", "not 0-65535"}},
		{Options{OtherPort: 70000}, []string{"other origin (OtherPort)", "not 0-65535"}},
	}
	for _, c := range cases {
		o, err := Start(c.opts)
		if err == nil {
			o.Close()
			t.Errorf("%+v: no error", c.opts)
			continue
		}
		for _, s := range c.says {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%+v: %q does not say %q", c.opts, err, s)
			}
		}
	}
}

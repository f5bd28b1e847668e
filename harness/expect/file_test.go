package expect_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/corslab/corslab/harness/expect"
	"github.com/corslab/corslab/harness/verdict"
)

func TestParseExample(t *testing.T) {
	f, err := expect.Load("../../examples/expectations.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Cases) != 8 {
		t.Fatalf("got %d cases, want 8", len(f.Cases))
	}
	c := f.Cases[2]
	// expect.preflight-cached is short for a second send that reuses the first's URL.
	if c.From != "https://app.example.com" || len(c.Sends) != 2 || c.Sends[0].Request.Method != "POST" || c.Sends[0].Request.API != "fetch" ||
		c.Sends[1].Reuse != 1 || c.Sends[1].Expect.PreflightCached == nil || !*c.Sends[1].Expect.PreflightCached || c.Line != 17 || !c.Fresh {
		t.Errorf("case 3 parsed as %+v", c)
	}
	// firefox: {preflight-cached: no} replaces that one field in Firefox, on the repeat.
	if ff := c.Sends[1].ExpectIn(verdict.Firefox); ff.PreflightCached == nil || *ff.PreflightCached || ff.Outcome != c.Sends[1].Expect.Outcome {
		t.Errorf("the repeat in Firefox expects %+v", ff)
	}
	if got := c.Sends[0].Request.Policy.AllowHeaders; len(got) != 1 || got[0] != "Content-Type" {
		t.Errorf("policy allow-headers = %v", got)
	}
}

// Every mistake names the line and the field.
func TestParseErrorsNameLineAndField(t *testing.T) {
	for _, tc := range []struct{ name, file, want string }{
		{"unknown field", "cases:\n  - name: a\n    request: {methd: GET}\n    expect: allowed\n", "x.yaml:3: cases[0].request.methd: unknown field"},
		{"bad method", "cases:\n  - name: a\n    request:\n      method: \"GE T\"\n    expect: allowed\n", "x.yaml:4: cases[0].request.method:"},
		{"bad result", "cases:\n  - name: a\n    request: {}\n    expect: {result: maybe}\n", "x.yaml:4: cases[0].expect.result: \"maybe\" is not an outcome: want one of allowed, opaque, blocked"},
		{"bad policy", "cases:\n  - name: a\n    request:\n      policy:\n        allow-origin: x\n        status: abc\n    expect: allowed\n", "x.yaml:6: cases[0].request.policy.status:"},
		{"missing expect", "cases:\n  - name: a\n    request: {}\n", "x.yaml:2: cases[0].expect: is missing"},
		{"bad from", "cases:\n  - name: a\n    from: app.example.com\n    request: {}\n    expect: allowed\n", "x.yaml:3: cases[0].from:"},
		{"bad header", "cases:\n  - name: a\n    request:\n      headers: {\"X Bad\": v}\n    expect: allowed\n", `x.yaml:4: cases[0].request.headers: "X Bad" header name has the invalid byte`},
		{"bad bool", "cases:\n  - name: a\n    request: {}\n    expect: {result: allowed, preflight: maybe}\n", "x.yaml:4: cases[0].expect.preflight: must be yes or no"},
		{"duplicate name", "cases:\n  - name: a\n    request: {}\n    expect: allowed\n  - name: a\n    request: {}\n    expect: allowed\n", "x.yaml:5: cases[1].name: \"a\" is also the name of the case on line 2"},
		{"relative url", "cases:\n  - name: a\n    request: {url: \"//evil\"}\n    expect: allowed\n", "x.yaml:3: cases[0].request.url:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := expect.Parse("x.yaml", []byte(tc.file))
			var fe *expect.Error
			if !errors.As(err, &fe) {
				t.Fatalf("got %v, want an *expect.Error", err)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("got  %q\nwant prefix %q", err, tc.want)
			}
		})
	}
}

func TestParseJSON(t *testing.T) {
	f, err := expect.Parse("x.json", []byte(`{"api": "http://localhost:8080", "cases": [{"name": "a", "request": {"url": "/users"}, "expect": {"result": "blocked"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if f.API != "http://localhost:8080" || f.Cases[0].Sends[0].Request.URL != "/users" || f.Cases[0].Sends[0].Expect.Outcome != "blocked" {
		t.Errorf("parsed %+v", f)
	}
}

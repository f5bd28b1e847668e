package harness

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/corslab/corslab/harness/verdict"
	"github.com/corslab/corslab/servers"
)

var update = flag.Bool("update", false, "rewrite the golden files from the current output")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to write it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("%s differs from %s:\n--- got\n%s--- want\n%s", t.Name(), path, got, want)
	}
}

// A preflighted PUT the preflight refused, as Chromium reports it: the
// diagram's every kind of line (participants, arrows with headers, the
// refusal, notes) and the characters Mermaid reads as syntax.
func TestMermaidOfARefusedPreflight(t *testing.T) {
	r := Result{
		Engine:     verdict.Chromium,
		Request:    Request{Method: "PUT", Headers: []servers.Header{{Name: "X-Trace", Value: "a;b#1"}}},
		URL:        "http://127.0.0.1:8081/cors/0123456789abcdef",
		PageOrigin: "http://127.0.0.1:8080",
		Page:       PageView{Event: "error", Transport: "XMLHttpRequest"},
		Browser: BrowserView{
			Preflight: &Exchange{Method: "OPTIONS", URL: "http://127.0.0.1:8081/cors/0123456789abcdef", Status: 204, Finished: true, OnWire: true,
				RequestHeaders:  map[string]string{"origin": "http://127.0.0.1:8080", "access-control-request-method": "PUT", "access-control-request-headers": "x-trace"},
				ResponseHeaders: map[string]string{"access-control-allow-origin": "http://127.0.0.1:8080", "access-control-allow-methods": "GET, POST"}},
			Actual:       &Exchange{Method: "PUT", URL: "http://127.0.0.1:8081/cors/0123456789abcdef", Finished: true, Failed: true, ErrorText: "net::ERR_FAILED", EngineReason: "MethodDisallowedByPreflightResponse"},
			Reason:       verdict.MethodDisallowedByPreflightResponse,
			EngineReason: "MethodDisallowedByPreflightResponse", FailedParameter: "PUT",
		},
	}
	golden(t, "mermaid-refused-preflight.txt", r.Mermaid())
}

// An allowed simple GET in Firefox, whose own reason words differ from the common ones.
func TestMermaidOfAnAllowedSimpleRequest(t *testing.T) {
	r := Result{
		Engine:     verdict.Firefox,
		Request:    Request{API: Fetch},
		URL:        "http://127.0.0.1:8081/cors/0123456789abcdef",
		PageOrigin: "https://app.example.com",
		Page:       PageView{Event: "load", Transport: "fetch", Status: 200, ResponseText: "corslab: ok"},
		Browser: BrowserView{
			Actual: &Exchange{Method: "GET", URL: "http://127.0.0.1:8081/cors/0123456789abcdef", Status: 200, Finished: true, OnWire: true,
				RequestHeaders:  map[string]string{"origin": "https://app.example.com"},
				ResponseHeaders: map[string]string{"access-control-allow-origin": "*", "content-type": "text/plain; charset=utf-8"}},
		},
	}
	golden(t, "mermaid-allowed-simple.txt", r.Mermaid())
}

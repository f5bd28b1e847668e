package expect

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// lineRef is how every parse error must say where: "file:LINE: ".
var lineRef = regexp.MustCompile(`^fuzz\.yaml(:\d+)?: `)

// FuzzParse feeds arbitrary bytes to the expectations-file parser: it must
// never panic or hang, and every error must name the file (and the line when
// there is one). Run: go test -fuzz FuzzParse -fuzztime 30s ./harness/expect
func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile("../../examples/expectations.yaml"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("cases:\n  - name: x\n    request: {method: GET}\n    expect: {result: allowed}\n"))
	f.Add([]byte(`{"cases":[{"name":"j","request":{"method":"PUT"},"expect":{"result":"blocked","reason":"MethodDisallowedByPreflightResponse"}}]}`))
	f.Add([]byte("cases:\n  - name: bad\n    request: {headers: {\"X\": \"a\\r\\nb\"}}\n"))
	f.Add([]byte("\t- ::: ["))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("fuzz.yaml", data)
		if err != nil {
			if !lineRef.MatchString(err.Error()) {
				t.Fatalf("error does not say where: %q", err)
			}
			return
		}
		if file == nil {
			t.Fatal("no error and no file")
		}
		for _, c := range file.Cases {
			for _, s := range c.Sends {
				for _, h := range s.Request.Headers {
					if strings.ContainsAny(h.Name+h.Value, "\r\n\x00") {
						t.Fatalf("a header with CR/LF/NUL passed: %q", h)
					}
				}
			}
		}
	})
}

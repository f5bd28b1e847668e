package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/chromium"
	"github.com/rs/cors"
)

// runCheck runs `corslab check args...` in this process and returns its output and error.
func runCheck(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	err := run(ctx, append([]string{"check"}, args...), &out, &errOut)
	return out.String() + errOut.String(), err
}

func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if err != nil {
		return -1
	}
	return 0
}

// readJUnit parses a JUnit report with the element and attribute names CI servers read.
func readJUnit(t *testing.T, path string) (tests, failures int, cases []string, messages []string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		XMLName xml.Name `xml:"testsuites"`
		Suites  []struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
			Cases    []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("the JUnit report is not valid XML: %v\n%s", err, b)
	}
	if len(doc.Suites) != 1 {
		t.Fatalf("want one testsuite, got %d", len(doc.Suites))
	}
	s := doc.Suites[0]
	for _, c := range s.Cases {
		cases = append(cases, c.Name)
		if c.Failure != nil {
			messages = append(messages, c.Failure.Message)
		}
	}
	return s.Tests, s.Failures, cases, messages
}

// The example file in every chosen engine (make test chooses all three): a
// summary line, one line per engine, a JUnit test case per case and engine.
func TestCheckExamplePasses(t *testing.T) {
	t.Parallel() // each run has its own browsers and origins
	engines, err := harness.ChosenEngines()
	if err != nil {
		t.Fatal(err)
	}
	junit := filepath.Join(t.TempDir(), "report.xml")
	out, err := runCheck(t, "../../examples/expectations.yaml", "--junit", junit)
	if code := exitCode(err); code != 0 {
		t.Fatalf("exit %d (%v):\n%s", code, err, out)
	}
	if !strings.Contains(out, "check: 8 cases, 8 passed, 0 failed\n") {
		t.Errorf("no summary line:\n%s", out)
	}
	for _, e := range engines {
		if want := "check [" + string(e) + "]: 8 cases, 8 passed, 0 failed\n"; !strings.Contains(out, want) {
			t.Errorf("no line %q:\n%s", want, out)
		}
	}
	tests, failures, cases, _ := readJUnit(t, junit)
	if n := 8 * len(engines); tests != n || failures != 0 || len(cases) != n {
		t.Errorf("JUnit: tests=%d failures=%d cases=%d, want %d, 0, %d", tests, failures, len(cases), n, n)
	}
	for _, e := range engines {
		if !slices.ContainsFunc(cases, func(c string) bool { return strings.HasSuffix(c, " ["+string(e)+"]") }) {
			t.Errorf("no JUnit test case names %s: %q", e, cases)
		}
	}
}

func TestCheckFailingCaseExits1(t *testing.T) {
	t.Parallel() // each run has its own Chrome and origins
	src, err := os.ReadFile("../../examples/expectations.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// The first case is a simple GET with Allow-Origin *: expecting a block must fail.
	changed := strings.Replace(string(src), "expect: {result: allowed, preflight: no}", "expect: {result: blocked}", 1)
	if changed == string(src) {
		t.Fatal("the example file changed; update this test")
	}
	// Its first two cases are enough: one fails, one passes (the whole file runs in TestCheckExamplePasses).
	if i := nthIndex(changed, "\n  - name:", 3); i > 0 {
		changed = changed[:i+1]
	} else {
		t.Fatal("the example file has fewer than 3 cases; update this test")
	}
	dir := t.TempDir()
	file, junit := filepath.Join(dir, "changed.yaml"), filepath.Join(dir, "report.xml")
	if err := os.WriteFile(file, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runCheck(t, "--engines", "chromium", "--junit", junit, file)
	if code := exitCode(err); code != 1 {
		t.Fatalf("exit %d (%v), want 1:\n%s", code, err, out)
	}
	for _, want := range []string{
		"check: 2 cases, 1 passed, 1 failed\n",
		"✗ a simple GET is allowed by Access-Control-Allow-Origin * (line 6)",
		"✓ allowed  status 200",
		`explain: Chromium allowed it because the response sent Access-Control-Allow-Origin: "*"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	tests, failures, _, messages := readJUnit(t, junit)
	if tests != 2 || failures != 1 || len(messages) != 1 || !strings.Contains(messages[0], "be blocked by CORS") {
		t.Errorf("JUnit: tests=%d failures=%d messages=%q", tests, failures, messages)
	}
}

// nthIndex is the index of the n-th occurrence of sep in s, or -1.
func nthIndex(s, sep string, n int) int {
	at := -1
	for range n {
		i := strings.Index(s[at+1:], sep)
		if i < 0 {
			return -1
		}
		at += 1 + i
	}
	return at
}

func TestCheckBadFileNamesLineAndField(t *testing.T) {
	file := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(file, []byte("cases:\n  - name: a\n    request: {method: GET}\n    expect: {result: alowed}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := runCheck(t, file)
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "bad.yaml:4: cases[0].expect.result") {
		t.Errorf("got %v", err)
	}
}

// The README's YAML example, run as written against a server that already
// runs (an rs/cors policy that allows https://app.example.com with credentials).
func TestCheckReadmeYAMLExample(t *testing.T) {
	t.Parallel() // each run has its own Chrome and origins
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "## Test your own server")
	if !ok {
		t.Fatal(`README has no "Test your own server" section`)
	}
	_, yaml, ok := strings.Cut(section, "```yaml\n")
	yaml, _, ok2 := strings.Cut(yaml, "```")
	if !ok || !ok2 {
		t.Fatal("the section has no yaml example")
	}
	if n := strings.Count(yaml, "\n"); n > 10 {
		t.Errorf("the YAML example has %d lines, want at most 10", n)
	}
	users := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "[]") })
	srv := httptest.NewServer(cors.New(cors.Options{AllowedOrigins: []string{"https://app.example.com"}, AllowCredentials: true}).Handler(users))
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "users.yaml")
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	// Chromium and Firefox: the server here is plain http, and WebKit blocks
	// an https page's requests to http as mixed content (README says so).
	out, err := runCheck(t, "--engines", httpTargetEngines(t), "--api", srv.URL, file)
	if code := exitCode(err); code != 0 {
		t.Fatalf("exit %d (%v):\n%s", code, err, out)
	}
	if !strings.Contains(out, "check: 2 cases, 2 passed, 0 failed") {
		t.Errorf("output:\n%s", out)
	}
}

// TestCheckAcrossTwoRemoteBrowsers starts two Chromiums with DevTools ports,
// as two browser service containers would be, names both in
// $CORSLAB_CHROME_URL, and runs the example file across them: every case
// passes and each browser runs some of them.
func TestCheckAcrossTwoRemoteBrowsers(t *testing.T) {
	// Not parallel: the environment variable is the user's way in, and
	// t.Setenv holds for this test alone only while no parallel test runs.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var urls []string
	for range 2 {
		rc, err := chromium.StartRemote(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := rc.Close(); err != nil {
				t.Error(err)
			}
		})
		urls = append(urls, rc.URL)
	}
	t.Setenv("CORSLAB_CHROME_URL", strings.Join(urls, ","))
	out, err := runCheck(t, "../../examples/expectations.yaml", "--engines", "chromium", "-p", "4")
	if code := exitCode(err); code != 0 {
		t.Fatalf("exit %d (%v):\n%s", code, err, out)
	}
	if !strings.Contains(out, "check: 8 cases, 8 passed, 0 failed\n") {
		t.Errorf("no summary line:\n%s", out)
	}
	line := ""
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "check [chromium]: cases spread across 2 browsers: ") {
			line = l
		}
	}
	if line == "" {
		t.Fatalf("no line says how the cases were spread:\n%s", out)
	}
	for _, u := range urls {
		if !strings.Contains(line, " on "+u) {
			t.Errorf("browser %s ran no case: %s", u, line)
		}
	}
}

func TestABadChromeURLIsRefused(t *testing.T) {
	t.Setenv("CORSLAB_CHROME_URL", "ws://127.0.0.1:9222/devtools/browser/x, localhost:9222")
	out, err := runCheck(t, "../../examples/expectations.yaml", "--engines", "chromium")
	if exitCode(err) == 0 || !strings.Contains(out+errText(err), `$CORSLAB_CHROME_URL: "localhost:9222" is not a DevTools URL`) {
		t.Errorf("exit %d, output:\n%s%s", exitCode(err), out, errText(err))
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/probe"
	"github.com/corslab/corslab/harness/verdict"
	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"
)

// runProbe runs `corslab probe args...` in this process: its standard
// output, its standard error, and its error.
func runProbe(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	err = run(ctx, append([]string{"probe"}, args...), &out, &errOut)
	return out.String(), errOut.String(), err
}

// startExample builds and starts examples/probe with the policy, on a free
// loopback port, and returns its base URL; the test's cleanup stops it.
func startExample(t *testing.T, policy string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "probe-example")
	build := exec.Command("go", "build", "-o", bin, "../../examples/probe")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build examples/probe: %v\n%s", err, out)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-addr", "127.0.0.1:0", "-policy", policy)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	// The first line says where it listens, once it accepts connections;
	// the process ending (EOF) ends the wait.
	line, err := bufio.NewReader(stdout).ReadString('\n')
	m := regexp.MustCompile(`^listening on (http://\S+) \(` + policy + ` policy\)`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("the example server said %q (%v)", line, err)
	}
	return m[1]
}

// summaryLine is the probe report's last line.
var summaryLine = regexp.MustCompile(`^probe: (\d+) origins tried on (\d+) paths, (\d+) findings \((\d+) high, (\d+) medium, (\d+) low\)$`)

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// The must-show: probe the example server as https://app.example.com,
// read its JSON, SARIF and JUnit, and check the expectations file it wrote
// against the same server (passes) and the server with its policy changed (fails).
func TestProbeExampleServerWritesEveryReport(t *testing.T) {
	t.Parallel() // each run has its own browser and origins
	vulnerable := startExample(t, "vulnerable")
	dir := t.TempDir()
	out := func(name string) string { return filepath.Join(dir, name) }
	stdout, stderr, err := runProbe(t, "--as", "https://app.example.com", "--json", out("out.json"), "--sarif", out("out.sarif"),
		"--junit", out("out.xml"), "--write-expectations", out("exp.yaml"), vulnerable+"/api/me")
	if code := exitCode(err); code != 1 {
		t.Fatalf("exit %d (%v), want 1 (a finding reaches --fail-on low):\n%s%s", code, err, stdout, stderr)
	}
	if got, want := lastLine(stdout), "probe: 19 origins tried on 1 paths, 1 findings (0 high, 1 medium, 0 low)"; got != want {
		t.Errorf("last line %q, want %q\n%s", got, want, stdout)
	}
	if !strings.Contains(stdout, "MEDIUM suffix-match: GET "+vulnerable+"/api/me from https://evilexample.com") {
		t.Errorf("no suffix-match finding:\n%s", stdout)
	}
	if es, _ := harness.ChosenEngines(); len(es) > 1 && slices.Contains(es, verdict.WebKit) && !strings.Contains(stdout, probe.WebKitLeftOut) {
		t.Errorf("WebKit was chosen, and the report does not say why it was left out for an http target:\n%s", stdout)
	}

	var findings []struct {
		Class        string   `json:"class"`
		Origin       string   `json:"origin"`
		URL          string   `json:"url"`
		Method       string   `json:"method"`
		Severity     string   `json:"severity"`
		Credentialed *bool    `json:"credentialed"`
		Engines      []string `json:"engines"`
		Evidence     []struct {
			Engine     string `json:"engine"`
			Transcript string `json:"transcript"`
		} `json:"evidence"`
	}
	b, err := os.ReadFile(out("out.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &findings); err != nil {
		t.Fatalf("the JSON does not parse: %v\n%s", err, b)
	}
	if len(findings) != 1 {
		t.Fatalf("want 1 finding, got %d:\n%s", len(findings), b)
	}
	f := findings[0]
	if f.Class != "suffix-match" || f.Origin != "https://evilexample.com" || f.URL != vulnerable+"/api/me" || f.Method != "GET" ||
		f.Severity != "medium" || f.Credentialed == nil || *f.Credentialed || len(f.Engines) == 0 ||
		len(f.Evidence) == 0 || !strings.Contains(f.Evidence[0].Transcript, "Access-Control-Allow-Origin: https://evilexample.com") {
		t.Errorf("the finding: %+v", f)
	}

	log, err := sarif.Open(out("out.sarif"))
	if err != nil {
		t.Fatalf("the SARIF does not parse: %v", err)
	}
	if err := log.Validate(); err != nil {
		t.Errorf("the SARIF does not meet the 2.1.0 schema: %v", err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 || len(log.Runs[0].Results) != 1 || *log.Runs[0].Results[0].RuleID != "suffix-match" ||
		log.Runs[0].Results[0].Level != "warning" {
		t.Errorf("SARIF: version %s, runs %d", log.Version, len(log.Runs))
	}

	tests, failures, cases, messages := readJUnit(t, out("out.xml"))
	if tests != 13 || failures != 4 || len(cases) != 13 {
		t.Errorf("JUnit: %d tests, %d failures, want 13 and 4 (suffix-match and the three it folds): %v %v", tests, failures, cases, messages)
	}

	if !strings.Contains(stderr, "probe: wrote 19 cases to "+out("exp.yaml")) {
		t.Errorf("no line about the expectations file:\n%s", stderr)
	}
	// The engines the probe ran in: an http target leaves WebKit out (mixed content).
	engines := httpTargetEngines(t)
	checkOut, err := runCheck(t, "--engines", engines, out("exp.yaml"))
	if code := exitCode(err); code != 0 || !strings.Contains(checkOut, "check: 19 cases, 19 passed, 0 failed\n") {
		t.Fatalf("check against the same server: exit %d (%v)\n%s", code, err, checkOut)
	}
	safe := startExample(t, "safe")
	checkOut, err = runCheck(t, "--engines", engines, "--api", safe, out("exp.yaml"))
	if code := exitCode(err); code != 1 {
		t.Fatalf("check after the policy change: exit %d (%v), want 1\n%s", code, err, checkOut)
	}
	for _, want := range []string{"✗ suffix-match: GET /api/me from https://evilexample.com", "Expected the request to be allowed", "check: 19 cases, 15 passed, 4 failed"} {
		if !strings.Contains(checkOut, want) {
			t.Errorf("check after the policy change lacks %q:\n%s", want, checkOut)
		}
	}
}

// With the cookie a credentialed read is high, and under the engine's
// default it held only as a read without the cookie; --fail-on decides the
// exit status; the safe policy has no finding.
func TestProbeCookieFailOnAndSafePolicy(t *testing.T) {
	t.Parallel() // each run has its own browser and origins
	vulnerable := startExample(t, "vulnerable")
	stdout, stderr, err := runProbe(t, "--engines", "chromium", "--as", "https://app.example.com", "--fail-on", "high", "--class", "suffix-match", vulnerable+"/api/me")
	if code := exitCode(err); code != 0 || lastLine(stdout) != "probe: 2 origins tried on 1 paths, 1 findings (0 high, 1 medium, 0 low)" {
		t.Fatalf("without the cookie, --fail-on high: exit %d (%v)\n%s%s", code, err, stdout, stderr)
	}
	stdout, stderr, err = runProbe(t, "--engines", "chromium", "--as", "https://app.example.com", "--fail-on", "high", "--class", "suffix-match",
		"--cookie", "sid=s3cr3t; SameSite=None; Secure", vulnerable+"/api/me")
	if code := exitCode(err); code != 1 || lastLine(stdout) != "probe: 2 origins tried on 1 paths, 1 findings (1 high, 0 medium, 0 low)" {
		t.Fatalf("with the cookie, --fail-on high: exit %d (%v)\n%s%s", code, err, stdout, stderr)
	}
	for _, want := range []string{`with the cookie sid; under Chromium's default cookie setting: medium`, "cookies held back by Chromium: sid (UserPreferences)", "Cookie: sid=s3cr3t"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the report lacks %q:\n%s", want, stdout)
		}
	}
	safe := startExample(t, "safe")
	stdout, stderr, err = runProbe(t, "--as", "https://app.example.com", "--cookie", "sid=s3cr3t; SameSite=None; Secure", safe+"/api/me")
	if code := exitCode(err); code != 0 || !strings.HasSuffix(lastLine(stdout), ", 0 findings (0 high, 0 medium, 0 low)") {
		t.Fatalf("the safe policy: exit %d (%v)\n%s%s", code, err, stdout, stderr)
	}
	if m := summaryLine.FindStringSubmatch(lastLine(stdout)); m == nil || m[1] != "19" {
		t.Errorf("last line %q", lastLine(stdout))
	}
}

// Bad input exits 2 before any browser starts, naming the flag and the value.
func TestProbeBadInputNamesTheFlag(t *testing.T) {
	const url = "http://127.0.0.1:1/api"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{url}, `--as "": is required`},
		{[]string{"--as", "app.example.com", url}, `--as "app.example.com": not an origin`},
		{[]string{"--as", "https://app.example.com/login", url}, `--as "https://app.example.com/login"`},
		{[]string{"--as", "https://app.example.com", "localhost:8080/api"}, `URL "localhost:8080/api": must be an absolute http or https URL`},
		{[]string{"--as", "https://app.example.com", "https://api.example.com/me"}, `URL "https://api.example.com/me": host api.example.com is not loopback, localhost or *.test`},
		{[]string{"--as", "https://app.example.com", "--fail-on", "critical", url}, `--fail-on "critical": want low, medium, high or none`},
		{[]string{"--as", "https://app.example.com", "--cookie", "sid=1\r\nX-Evil: 1", url}, `--cookie "sid=1\r\nX-Evil: 1": a cookie is one Set-Cookie line: no CR, LF or NUL`},
		{[]string{"--as", "https://app.example.com", "--cookie", "sid=1; SameSite=None", url}, `--cookie "sid=1; SameSite=None": SameSite=None without Secure`},
		{[]string{"--as", "https://app.example.com", "--method", "GE T", url}, `--method "GE T": not an HTTP method`},
		{[]string{"--as", "https://app.example.com", "--method", "TRACE", url}, `--method "TRACE": browsers refuse to send it`},
		{[]string{"--as", "https://app.example.com", "--path", "api", url}, `--path "api": must be a path`},
		{[]string{"--as", "https://app.example.com", "--class", "reflected", url}, `--class "reflected": unknown class "reflected"`},
		{[]string{"--as", "https://app.example.com", "--shard", "3/2", url}, `--shard "3/2"`},
		{[]string{"--as", "https://app.example.com", "--rate", "NaN", url}, `--rate "NaN"`},
		{[]string{"--as", "https://app.example.com", "-p", "0", url}, `-p 0: need at least 1`},
		{[]string{"--as", "https://app.example.com", "--engines", "safari", url}, `--engines "safari"`},
		{[]string{"--as", "http://127.0.0.1:1", url}, `--as "http://127.0.0.1:1": is the target's own origin`},
		{[]string{"--as", "https://app.example.com", url, url}, "give exactly one URL to probe (got 2)"},
	} {
		_, _, err := runProbe(t, tc.args...)
		if exitCode(err) != 2 || !strings.Contains(errText(err), tc.want) {
			t.Errorf("%q: exit %d, %v; want 2 and %q", tc.args, exitCode(err), err, tc.want)
		}
	}
}

// A target nothing answers at ends the probe after the trusted origin's
// request, with exit 2 and the browser's network error.
func TestProbeTargetThatDoesNotAnswer(t *testing.T) {
	t.Parallel() // each run has its own browser and origins
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() + "/api"
	l.Close()
	stdout, stderr, err := runProbe(t, "--engines", "chromium", "--as", "https://app.example.com", closed)
	if exitCode(err) != 2 || !strings.Contains(errText(err), "does not answer") || !strings.Contains(errText(err), "net::ERR_CONNECTION_REFUSED") {
		t.Errorf("exit %d, %v\n%s%s", exitCode(err), err, stdout, stderr)
	}
}

// A host that is not loopback, localhost or *.test needs --allow-remote;
// then the probe prints what it will send before it sends anything.
// "localhost." (with the root's dot) is such a name, and still this machine.
func TestProbeRemoteTargetPrintsThePlanFirst(t *testing.T) {
	t.Parallel() // each run has its own browser and origins
	remote := strings.Replace(startExample(t, "vulnerable"), "127.0.0.1", "localhost.", 1) + "/api/me"
	_, _, err := runProbe(t, "--engines", "chromium", "--as", "https://app.example.com", remote)
	if exitCode(err) != 2 || !strings.Contains(errText(err), "--allow-remote") {
		t.Fatalf("without --allow-remote: exit %d, %v", exitCode(err), err)
	}
	stdout, stderr, err := runProbe(t, "--engines", "chromium", "--allow-remote", "--class", "suffix-match", "--as", "https://app.example.com", remote)
	if exitCode(err) != 1 {
		t.Fatalf("exit %d (%v)\n%s%s", exitCode(err), err, stdout, stderr)
	}
	plan := strings.Index(stdout, "probe: --allow-remote: this probe sends, before anything else,")
	report := strings.Index(stdout, "probe http://localhost.:")
	if plan != 0 || report < plan {
		t.Errorf("the plan does not come first:\n%s", stdout)
	}
	for _, want := range []string{"    GET /api/me\n", "from 3 origins: https://app.example.com (trusted), https://evil.test, https://evilexample.com", "at most 5 requests per second"} {
		if !strings.Contains(stdout[:report], want) {
			t.Errorf("the plan lacks %q:\n%s", want, stdout[:report])
		}
	}
	if lastLine(stdout) != "probe: 2 origins tried on 1 paths, 1 findings (0 high, 1 medium, 0 low)" {
		t.Errorf("last line %q", lastLine(stdout))
	}
}

// httpTargetEngines are the chosen engines a probe of an http target runs
// in, as an --engines value: WebKit is left out when others are chosen.
func httpTargetEngines(t *testing.T) string {
	t.Helper()
	es, err := harness.ChosenEngines()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		if e != verdict.WebKit || len(es) == 1 {
			names = append(names, string(e))
		}
	}
	return strings.Join(names, ",")
}

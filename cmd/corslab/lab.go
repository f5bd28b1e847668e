package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/chromium"
	"github.com/corslab/corslab/harness/expect"
	"github.com/corslab/corslab/harness/lab"
	"github.com/corslab/corslab/harness/report"
	"github.com/corslab/corslab/servers"
)

// labCommand serves the teaching lab until ctx ends, or, with shots set,
// writes the lab's screenshots there and returns.
func labCommand(ctx context.Context, opts harness.Options, shots string, stdout io.Writer) error {
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	l, err := lab.Start(sctx, opts)
	cancel()
	if err != nil {
		return err
	}
	defer l.Close()
	if shots != "" {
		return screenshots(ctx, l, shots, stdout)
	}
	env := l.Env()
	fmt.Fprintf(stdout, "corslab lab: %s\n", l.URL())
	fmt.Fprintf(stdout, "  browser: %s\n  page origin: %s   API origin: %s (loopback only)\n  Ctrl-C stops it.\n",
		env.Version(), env.Origins.App.URL, env.Origins.API.URL)
	<-ctx.Done()
	fmt.Fprintln(stdout, "corslab lab: stopped")
	return nil
}

// shot is one screenshot of the lab: a scenario opened by its share URL (or
// a preset), and the part of the page to capture.
type shot struct {
	file     string
	request  harness.Request
	preset   string // a preset ID instead of request
	selector string // the element to capture; "" for the whole page
}

// labShots are the pictures README shows.
var labShots = []shot{
	{file: "lab-preflight.png", selector: ".results", request: harness.Request{Method: "POST", Body: "hello",
		Headers: []servers.Header{{Name: "NCZ", Value: "x"}},
		Policy:  servers.Policy{AllowOrigin: []string{servers.Echo}, AllowMethods: []string{"POST, GET"}, AllowHeaders: []string{"NCZ"}, MaxAge: "600"}}},
	{file: "lab-credentials-blocked.png", selector: ".results", request: harness.Request{Credentials: true,
		Policy: servers.Policy{AllowOrigin: []string{"*"}}}},
	{file: "lab-cache.png", selector: ".results", preset: "A8"},
	{file: "lab-overview.png", preset: "A7"},
	// One request, every engine side by side: a 404 preflight without CORS
	// headers, which WebKit blames on the status and the others on Allow-Origin.
	{file: "lab-engines.png", selector: ".results", request: harness.Request{Method: "PUT",
		Policy: servers.Policy{AllowOrigin: []string{servers.Echo}, Preflight: &servers.Policy{PreflightStatus: 404}}}},
}

// screenshots opens each shot's share URL in a tab of the lab's own Chrome,
// waits for the run to finish and saves the results column as a PNG.
func screenshots(ctx context.Context, l *lab.Lab, dir string, stdout io.Writer) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("screenshots: %w", err)
	}
	for _, s := range labShots {
		sctx, cancel := context.WithTimeout(ctx, time.Minute)
		png, err := labShot(sctx, l, s)
		cancel()
		if err != nil {
			return fmt.Errorf("screenshot %s: %w", s.file, err)
		}
		path := filepath.Join(dir, s.file)
		if err := os.WriteFile(path, png, 0o644); err != nil {
			return fmt.Errorf("screenshot %s: %w", s.file, err)
		}
		fmt.Fprintf(stdout, "wrote %s (%d bytes)\n", path, len(png))
	}
	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	png, err := reportShot(sctx, l.Env())
	if err != nil {
		return fmt.Errorf("screenshot report.png: %w", err)
	}
	path := filepath.Join(dir, "report.png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		return fmt.Errorf("screenshot report.png: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s (%d bytes)\n", path, len(png))
	return nil
}

// reportCases are the cases of the HTML report README shows: one that
// passes, one blocked as expected, one whose expectation is wrong.
const reportCases = `
cases:
  - name: a simple GET is allowed by Access-Control-Allow-Origin *
    request: {policy: {allow-origin: "*"}}
    expect: {result: allowed, preflight: no}
  - name: a JSON POST is preflighted, and Allow-Headers must list Content-Type
    request: {api: fetch, method: POST, headers: {Content-Type: application/json}, body: "{}", policy: {allow-origin: $origin}}
    expect: {result: blocked, reason: HeaderDisallowedByPreflightResponse, preflight: yes}
  - name: the team expects credentials to work with Allow-Origin *
    request: {credentials: true, policy: {allow-origin: "*", allow-credentials: "true"}}
    expect: {result: allowed}
`

// reportShot runs reportCases in every engine of env, as corslab check
// does, writes the HTML report and captures it.
func reportShot(ctx context.Context, env *harness.Env) ([]byte, error) {
	f, err := expect.Parse("team.yaml", []byte(reportCases))
	if err != nil {
		return nil, err
	}
	run := &report.Run{Tool: "corslab check", File: f.Path, Started: time.Now(), Cases: f.Cases}
	for _, e := range env.Engines() {
		run.Engines = append(run.Engines, report.Engine{Name: e, Version: env.In(e).Version()})
		for _, c := range f.Cases {
			o, err := expect.Run(ctx, env.In(e), c)
			if err != nil {
				return nil, err
			}
			run.Outcomes = append(run.Outcomes, o)
		}
	}
	run.Took = time.Since(run.Started)
	dir, err := os.MkdirTemp("", "corslab-report-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "report.html")
	if err := writeFile(path, run.WriteHTML); err != nil {
		return nil, err
	}
	return chromium.Screenshot(ctx, env, "file://"+path, "#overview", "")
}

func labShot(ctx context.Context, l *lab.Lab, s shot) ([]byte, error) {
	url := l.ShareURL(s.request)
	if s.preset != "" {
		url = l.URL() + "?preset=" + s.preset
	}
	return chromium.Screenshot(ctx, l.Env(), url, `#results[data-state=done] .run`, s.selector)
}

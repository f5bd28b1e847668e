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
	"github.com/corslab/corslab/harness/lab"
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
	return nil
}

func labShot(ctx context.Context, l *lab.Lab, s shot) ([]byte, error) {
	url := l.ShareURL(s.request)
	if s.preset != "" {
		url = l.URL() + "?preset=" + s.preset
	}
	return chromium.Screenshot(ctx, l.Env(), url, `#results[data-state=done] .run`, s.selector)
}

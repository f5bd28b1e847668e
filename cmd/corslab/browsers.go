package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/scripts"
)

// installBrowsers runs scripts/install-browsers, which the command embeds,
// for the engines check would run: a corslab installed with go install, go
// run or go tool installs browsers as this repository's `make test` does.
func installBrowsers(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("install-browsers", flag.ContinueOnError)
	fs.SetOutput(stderr)
	engines := enginesFlag(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: corslab install-browsers [--engines LIST]")
		fmt.Fprintln(stderr, "Installs the chosen engines' browsers that are missing, from Debian's packages (apt-get; sudo when not root).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return &exitError{code: 2}
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return &exitError{code: 2, msg: fmt.Sprintf("install-browsers: unexpected argument %q", fs.Arg(0))}
	}
	chosen, err := parseEngines(*engines)
	if err != nil {
		return &exitError{code: 2, msg: "install-browsers: " + err.Error()}
	}
	list, err := harness.ChosenEngines(chosen...)
	if err != nil {
		return &exitError{code: 2, msg: "install-browsers: " + err.Error()}
	}
	names := make([]string, len(list))
	for i, e := range list {
		names[i] = string(e)
	}
	cmd := exec.CommandContext(ctx, "bash", "-c", scripts.InstallBrowsers, "install-browsers", strings.Join(names, ","))
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() > 0 {
			return &exitError{code: ee.ExitCode()} // the script said why
		}
		return fmt.Errorf("install-browsers: %w", err)
	}
	return nil
}

// Command corslab asks real browsers (Chromium, Firefox, WebKit) what they
// do with cross-origin requests.
//
//	corslab demo [--engines LIST]     narrated tour of the article's CORS walk-through
//	corslab demo --serve              serve the interactive teaching lab until Ctrl-C
//	corslab check [flags] FILE        run an expectations file's cases in every chosen engine
//	corslab matrix [--engine LIST]    generated scenarios in real browsers, compared with the model
//	corslab bench [-n 200]            the benchmark workloads and their one-line summaries
//	corslab summary REPORT.json       one-line summary of a ginkgo JSON report
//	corslab probe --as ORIGIN URL     prove a server's CORS holes as an attacker's page would
//	corslab install-browsers          install the chosen engines' browsers that are missing
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	_ "github.com/corslab/corslab/harness/engines" // every engine
	"github.com/corslab/corslab/harness/verdict"
)

// exitError carries a process exit code through the command's error.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// chromeFlag defines the --chrome flag every command that launches Chrome takes.
func chromeFlag(fs *flag.FlagSet) *string {
	return fs.String("chrome", "", "Chrome or Chromium binary (default: $CORSLAB_CHROME, then chromium/google-chrome on PATH)")
}

// parseArgs parses args with fs, flags before and after the positional
// arguments (corslab check FILE --html out.html), and returns those.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		rest = fs.Args()[1:]
	}
}

// enginesFlag defines the --engines flag of the commands that run in several engines.
func enginesFlag(fs *flag.FlagSet) *string {
	return fs.String("engines", "", "engines to run in, comma-separated: chromium, firefox, webkit, or all (default: $CORSLAB_ENGINES, then chromium)")
}

// parseEngines reads an --engines value; "" leaves the choice to $CORSLAB_ENGINES (harness.Options).
func parseEngines(list string) ([]verdict.Engine, error) {
	if strings.TrimSpace(list) == "" {
		return nil, nil
	}
	es, err := verdict.ParseEngines(list)
	if err != nil {
		return nil, fmt.Errorf("--engines %q: %w", list, err)
	}
	return es, nil
}

// paths is the Options.Paths of a --chrome flag's value.
func paths(chrome string) map[verdict.Engine]string {
	if chrome == "" {
		return nil
	}
	return map[verdict.Engine]string{verdict.Chromium: chrome}
}

const usage = `usage: corslab <command> [flags]

commands:
  demo       a narrated tour of the article's CORS walk-through in real browsers
             (--serve: the interactive teaching lab)
  check      run an expectations file's cases in every chosen engine
             (--html, --json, --junit PATH for reports; -p N in flight; --shard i/n)
  matrix     run generated scenarios in real browsers and compare each with the model
  bench      the benchmark workloads: scenarios, check cases, the matrix's rate
  summary    summarize a ginkgo JSON report (used by make test)
  probe      prove a server's CORS holes in real browsers, as an attacker's page would
             (--as ORIGIN URL; --json, --sarif, --junit, --write-expectations)
  install-browsers
             install the chosen engines' browsers that are missing (Debian's packages)

Engines: --engines chromium,firefox,webkit (or all); default $CORSLAB_ENGINES, then chromium.
Run 'corslab <command> -h' for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			if ee.msg != "" {
				fmt.Fprintln(os.Stderr, "corslab:", ee.msg)
			}
			os.Exit(ee.code)
		}
		fmt.Fprintln(os.Stderr, "corslab:", err)
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return &exitError{code: 2}
	}
	switch args[0] {
	case "demo":
		return demo(ctx, args[1:], stdout, stderr)
	case "check":
		return check(ctx, args[1:], stdout, stderr)
	case "summary":
		return summary(args[1:], stdout)
	case "bench":
		return benchCmd(ctx, args[1:], stdout, stderr)
	case "matrix":
		return matrix(ctx, args[1:], stdout, stderr)
	case "probe":
		return probeCmd(ctx, args[1:], stdout, stderr)
	case "install-browsers":
		return installBrowsers(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return &exitError{code: 2, msg: fmt.Sprintf("unknown command %q", args[0])}
}

// plural is "1 engine" or "3 engines".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

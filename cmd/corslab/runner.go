package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// shard is one part of a run split across machines: the i-th of n (1-based).
type shard struct{ i, n int }

// parseShard reads --shard "i/n"; "" is the whole run (1/1).
func parseShard(s string) (shard, error) {
	if s == "" {
		return shard{1, 1}, nil
	}
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return shard{}, fmt.Errorf("--shard %q: want i/n with 1 <= i <= n, e.g. 2/4", s)
	}
	return shard{i, n}, nil
}

// has reports whether the shard runs the item with this index (0-based):
// items are dealt round-robin, so every shard gets a mix of a file.
func (s shard) has(index int) bool { return index%s.n == s.i-1 }

// String is "i/n".
func (s shard) String() string { return fmt.Sprintf("%d/%d", s.i, s.n) }

// parallelFlag is the -p default: one job per core.
func parallelDefault() int { return runtime.NumCPU() }

// forEach runs job(i) for i in [0, n) with at most p at once, and calls
// done(i) in index order as soon as each job and all before it finished:
// output stays in the file's order whatever order the jobs end in. It stops
// starting jobs when ctx ends.
func forEach(ctx context.Context, n, p int, job func(i int), done func(i int)) {
	if p < 1 {
		p = 1
	}
	finished := make([]bool, n)
	var mu sync.Mutex
	next := 0
	sem := make(chan struct{}, p)
	var wg sync.WaitGroup
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			job(i)
			mu.Lock()
			defer mu.Unlock()
			finished[i] = true
			for next < n && finished[next] {
				done(next)
				next++
			}
		})
	}
	wg.Wait()
}

// progress reports a long run's progress on w: a live line (rewritten in
// place) on a terminal, a plain line every few seconds elsewhere (CI logs).
type progress struct {
	w        io.Writer
	what     string
	total    int
	start    time.Time
	live     bool
	mu       sync.Mutex
	count    int
	failed   int
	lastLine time.Time
	first    time.Time // when the first item finished: the rate counts from there, past the start-up
}

func newProgress(w io.Writer, what string, total int) *progress {
	return &progress{w: w, what: what, total: total, start: time.Now(), live: isTerminal(w)}
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// begin says an item started: a plain line in a log (a terminal's live line
// says enough), so a reader of a CI log sees what is running.
func (p *progress) begin(n int, name string) {
	if p.live {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "%s: %d/%d %s …\n", p.what, n, p.total, name)
}

// step counts one finished item (failed or not) and reports.
func (p *progress) step(failed bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.count++
	if failed {
		p.failed++
	}
	now := time.Now()
	if p.count == 1 {
		p.first = now
	}
	if !p.live && now.Sub(p.lastLine) < 2*time.Second && p.count < p.total {
		return
	}
	p.lastLine = now
	el := now.Sub(p.start)
	left := ""
	// The first item pays for starting browsers and pages; the time left is
	// estimated from the items after it.
	if p.count < p.total && p.count >= 3 {
		rest := time.Duration(float64(now.Sub(p.first)) / float64(p.count-1) * float64(p.total-p.count))
		left = fmt.Sprintf(", ~%s left", rest.Round(time.Second))
	}
	line := fmt.Sprintf("%s: %d/%d done, %d failed, %s%s", p.what, p.count, p.total, p.failed, el.Round(100*time.Millisecond), left)
	if p.live {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		if p.count == p.total {
			fmt.Fprintln(p.w)
		}
		return
	}
	fmt.Fprintln(p.w, line)
}

// end finishes a live line that did not reach the total (an interrupted run).
func (p *progress) end() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.live && p.count < p.total {
		fmt.Fprintln(p.w)
	}
}

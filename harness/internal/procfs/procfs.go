// Package procfs reads what the engines need to know about their processes
// from Linux's /proc: who is in a process group, who still runs, how much
// memory they hold; and removes a temporary folder a dying process may
// still write into.
package procfs

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// stat returns the fields of /proc/pid/stat after the command name (state,
// ppid, pgrp, …); the name may hold spaces and parentheses.
func stat(pid string) []string {
	b, err := os.ReadFile(filepath.Join("/proc", pid, "stat"))
	if err != nil {
		return nil
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(s[i+1:])
}

// Alive reports whether pid runs: it exists and is not a zombie waiting to
// be reaped.
func Alive(pid int) bool {
	f := stat(strconv.Itoa(pid))
	return len(f) > 0 && f[0] != "Z"
}

// GroupPIDs lists the live (not zombie) processes of process group pgid. A
// zombie has ended and only waits for its parent (init, for an orphan) to
// reap it, which may take a while in a container.
func GroupPIDs(pgid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	want := strconv.Itoa(pgid)
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if f := stat(e.Name()); len(f) > 2 && f[2] == want && f[0] != "Z" {
			out = append(out, pid)
		}
	}
	return out
}

// PSS returns the summed proportional set size of pids in bytes: shared
// pages split among their users, so a sum over a browser's processes counts
// its shared libraries once (a sum of RSS would count them per process). A
// process that is gone or unreadable counts 0.
func PSS(pids ...int) int64 {
	var total int64
	for _, pid := range pids {
		f, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "smaps_rollup"))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "Pss:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
				total += kb * 1024
				break
			}
		}
		f.Close()
	}
	return total
}

// RemoveAll removes dir, retrying for up to a second while a dying child
// of the browser still writes into it.
func RemoveAll(dir string) error {
	var err error
	for range 20 {
		if err = os.RemoveAll(dir); err == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return err
}

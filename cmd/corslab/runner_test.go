package main

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
)

// The shards of a run are disjoint and together are exactly the whole run,
// for any number of shards and items.
func TestShardsPartitionTheRun(t *testing.T) {
	for n := 1; n <= 7; n++ {
		for items := 0; items <= 23; items++ {
			seen := make([]int, items)
			for i := 1; i <= n; i++ {
				sh, err := parseShard(itoa(i) + "/" + itoa(n))
				if err != nil {
					t.Fatal(err)
				}
				for k := range items {
					if sh.has(k) {
						seen[k]++
					}
				}
			}
			for k, c := range seen {
				if c != 1 {
					t.Fatalf("%d shards, %d items: item %d is in %d shards, want exactly 1", n, items, k, c)
				}
			}
		}
	}
	for _, bad := range []string{"0/3", "4/3", "1/0", "a/b", "1", "-1/2"} {
		if _, err := parseShard(bad); err == nil {
			t.Errorf("parseShard(%q) accepted it", bad)
		}
	}
}

// forEach runs every job, at most p at once, and reports them in order.
func TestForEachKeepsTheOrderAndTheLimit(t *testing.T) {
	var running, most atomic.Int32
	var order []int
	forEach(context.Background(), 50, 4, func(i int) {
		n := running.Add(1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		running.Add(-1)
	}, func(i int) { order = append(order, i) })
	if !slices.Equal(order, func() []int {
		var s []int
		for i := range 50 {
			s = append(s, i)
		}
		return s
	}()) {
		t.Fatalf("done order %v", order)
	}
	if most.Load() > 4 {
		t.Fatalf("%d jobs at once, want at most 4", most.Load())
	}
}

func itoa(n int) string { return string(rune('0' + n)) }

package model

import "testing"

func TestPreflightCacheSeconds(t *testing.T) {
	cases := []struct {
		v       string
		present bool
		want    int
	}{
		{"", false, 5}, {"2", true, 2}, {"0", true, 0}, {"-1", true, 0},
		{"1728000", true, 7200}, {"soon", true, 5}, {"99999999999999999999", true, 7200},
	}
	for _, c := range cases {
		if got := PreflightCacheSeconds(c.v, c.present); got != c.want {
			t.Errorf("PreflightCacheSeconds(%q, %v) = %d, want %d", c.v, c.present, got, c.want)
		}
	}
}

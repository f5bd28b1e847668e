package harness

import (
	"slices"
	"time"
)

// Percentile returns the p-th percentile (nearest rank) of d; 0 for an empty slice.
func Percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.5) - 1
	return s[max(0, min(i, len(s)-1))]
}

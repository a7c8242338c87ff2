package budget

import (
	"testing"
	"time"
)

// FuzzDuration parses arbitrary budget_duration strings, as clients send them to /key/generate,
// and runs each valid one through the reset calendar in a DST zone: no panic, the printed form
// parses back to the same duration, the next reset is after its start, and the window that ends
// there starts no later than the start.
func FuzzDuration(f *testing.F) {
	for _, s := range []string{"30s", "10m", "24h", "1d", "7d", "30d", "1mo", "daily", "weekly", "monthly", " 2w ", "0d", "-1d", "999999999999d", "1y"} {
		f.Add(s, int64(1_774_000_000))
	}
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		loc = time.FixedZone("EST", -5*3600)
	}
	f.Fuzz(func(t *testing.T, s string, unix int64) {
		d, err := ParseDuration(s)
		if err != nil {
			return
		}
		back, err := ParseDuration(d.String())
		if err != nil || back != d {
			t.Fatalf("%q parsed to %v, printed %q, parsed back to %v (%v)", s, d, d.String(), back, err)
		}
		from := time.Unix(unix%(1<<34), 0) // 1970 to 2514
		next := NextReset(d, from, loc)
		if !next.After(from) {
			t.Fatalf("%q from %v: next reset %v is not after it", s, from, next)
		}
		if start := WindowStart(d, next, loc); start.After(from) {
			t.Fatalf("%q from %v: the window ending %v starts at %v, after its start", s, from, next, start)
		}
	})
}

package budget

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clawgate/clawgate/internal/fuzzstat"
)

// durationUnits are the suffixes the fuzzer writes: the grammar's, and a few it must refuse.
var durationUnits = []string{"s", "m", "h", "d", "w", "mo", "s", "m", "h", "d", "w", "mo", "M", "y", "", "MO"}

// FuzzDuration parses budget_duration strings, as clients send them to /key/generate, and runs
// each valid one through the reset calendar in a DST zone: no panic, the printed form parses back
// to the same duration, the next reset is after its start, and the window that ends there starts
// no later than the start. Random strings are almost never durations (99.5% of them stopped at the
// parse), so the string is built from a number, a unit and a form (see durationText); the
// parser's refusals stay covered by the units, forms and junk it also writes now and then.
func FuzzDuration(f *testing.F) {
	f.Add(uint64(29), uint8(3), uint8(0), "", int64(1_774_000_000))
	f.Add(uint64(0), uint8(5), uint8(1), "", int64(1_774_000_000))
	f.Add(uint64(3_155_759_999), uint8(0), uint8(0), "", int64(-1))
	f.Add(uint64(1), uint8(5), uint8(2), "", int64(1_762_063_200)) // 2mo from New York's 2025 fall-back night
	f.Add(uint64(1), uint8(2), uint8(7<<2), "", int64(0))          // a word
	f.Add(uint64(999_999_999_999), uint8(3), uint8(7<<5), "", int64(0))
	f.Add(uint64(1), uint8(3), uint8(0x0f), "-", int64(0)) // junk
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		loc = time.FixedZone("EST", -5*3600)
	}
	f.Fuzz(func(t *testing.T, n uint64, unit, form uint8, junk string, unix int64) {
		s := durationText(n, unit, form, junk)
		d, err := ParseDuration(s)
		if !fuzzstat.Reach(err == nil) {
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

var suffixUnit = map[string]Unit{"s": Second, "m": Minute, "h": Hour, "d": Day, "w": Week, "mo": Month}

// durationText writes a duration from the fuzzer's values, valid most of the time. form's bits:
// 0-1 pad with spaces; 2-4 all set writes a word in mixed case; 5-7 all set leaves n unbounded
// (most are then too large), 5-7 at 6 adds leading zeros; 0-3 all set puts junk in front.
func durationText(n uint64, unit, form uint8, junk string) string {
	var s string
	if form>>2&7 == 7 {
		s = []string{"daily", "Weekly", "MONTHLY", "hourly"}[int(unit)%4]
	} else {
		u := durationUnits[int(unit)%len(durationUnits)]
		if form>>5 != 7 {
			// Within the unit's range (one past it at most), so that most strings are valid.
			max, ok := maxN[suffixUnit[u]]
			if !ok {
				max = 100
			}
			n = n%uint64(max+1) + 1
		}
		s = strconv.FormatUint(n, 10) + u
		if form>>5 == 6 {
			s = "00" + s
		}
	}
	if form&0x0f == 0x0f {
		return junk + s
	}
	pad := strings.Repeat(" ", int(form&3))
	return pad + s + pad
}

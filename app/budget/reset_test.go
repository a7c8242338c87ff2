package budget

import (
	"testing"
	"time"
)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return loc
}

func mustDur(t *testing.T, s string) Duration {
	t.Helper()
	d, err := ParseDuration(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// at parses an RFC 3339 time.
func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestNextReset(t *testing.T) {
	tests := []struct {
		name, dur, zone, from, want string
	}{
		// Days: the next midnight in the zone, calendar days not 24 h.
		{"1d utc", "1d", "UTC", "2026-11-23T11:45:00Z", "2026-11-24T00:00:00Z"},
		{"1d at midnight is a whole day", "1d", "UTC", "2026-11-23T00:00:00Z", "2026-11-24T00:00:00Z"},
		{"daily word", "daily", "UTC", "2026-11-23T23:59:59Z", "2026-11-24T00:00:00Z"},
		{"24h is a day", "24h", "UTC", "2026-11-23T10:00:00Z", "2026-11-24T00:00:00Z"},
		{"1d kolkata", "1d", "Asia/Kolkata", "2026-11-23T20:00:00Z", "2026-11-25T00:00:00+05:30"},
		{"1d year end", "1d", "UTC", "2026-12-31T18:00:00Z", "2027-01-01T00:00:00Z"},
		{"1d leap day next", "1d", "UTC", "2028-02-28T12:00:00Z", "2028-02-29T00:00:00Z"},
		{"1d after leap day", "1d", "UTC", "2028-02-29T12:00:00Z", "2028-03-01T00:00:00Z"},
		// New York springs forward on 2026-03-08: that day is 23 hours long.
		{"1d into DST day", "1d", "America/New_York", "2026-03-07T12:00:00-05:00", "2026-03-08T00:00:00-05:00"},
		{"1d across spring forward", "1d", "America/New_York", "2026-03-08T00:00:00-05:00", "2026-03-09T00:00:00-04:00"},
		{"1d across fall back", "1d", "Europe/Berlin", "2026-10-25T00:00:00+02:00", "2026-10-26T00:00:00+01:00"},
		// Santiago skips midnight on 2026-09-06 (00:00 -04 becomes 01:00 -03).
		{"1d missing midnight", "1d", "America/Santiago", "2026-09-05T23:30:00-04:00", "2026-09-06T01:00:00-03:00"},
		{"other Nd from midnight today", "10d", "UTC", "2026-11-23T11:00:00Z", "2026-12-03T00:00:00Z"},
		{"48h is 2d", "48h", "UTC", "2026-11-23T11:00:00Z", "2026-11-25T00:00:00Z"},

		// Weeks: next Monday 00:00 (2026-11-23 is a Monday).
		{"1w on monday", "1w", "UTC", "2026-11-23T11:00:00Z", "2026-11-30T00:00:00Z"},
		{"1w on sunday", "1w", "UTC", "2026-11-29T23:00:00Z", "2026-11-30T00:00:00Z"},
		{"7d is a week", "7d", "UTC", "2026-11-25T08:00:00Z", "2026-11-30T00:00:00Z"},
		{"weekly word", "weekly", "UTC", "2026-11-28T08:00:00Z", "2026-11-30T00:00:00Z"},
		{"1w in zone", "1w", "Pacific/Auckland", "2026-11-22T12:00:00Z", "2026-11-30T00:00:00+13:00"}, // Monday 01:00 local
		{"2w from midnight", "2w", "UTC", "2026-11-25T08:00:00Z", "2026-12-09T00:00:00Z"},

		// Months: the 1st of the next month.
		{"1mo", "1mo", "UTC", "2026-11-23T11:00:00Z", "2026-12-01T00:00:00Z"},
		{"monthly word", "monthly", "UTC", "2026-12-15T11:00:00Z", "2027-01-01T00:00:00Z"},
		{"1mo from jan 31", "1mo", "UTC", "2027-01-31T23:00:00Z", "2027-02-01T00:00:00Z"},
		{"1mo at the 1st", "1mo", "UTC", "2027-02-01T00:00:00Z", "2027-03-01T00:00:00Z"},
		{"30d is the 1st", "30d", "UTC", "2027-01-31T10:00:00Z", "2027-02-01T00:00:00Z"},
		{"1mo in zone", "1mo", "America/Los_Angeles", "2026-12-01T05:00:00Z", "2026-12-01T00:00:00-08:00"}, // Nov 30 21:00 local
		{"3mo quarters", "3mo", "UTC", "2026-11-23T00:00:00Z", "2027-01-01T00:00:00Z"},
		{"3mo at quarter start", "3mo", "UTC", "2027-04-01T00:00:00Z", "2027-07-01T00:00:00Z"},
		{"12mo years", "12mo", "UTC", "2026-03-10T00:00:00Z", "2027-01-01T00:00:00Z"},
		{"5mo rolls from month", "5mo", "UTC", "2026-11-23T00:00:00Z", "2027-04-01T00:00:00Z"},

		// Sub-day units roll from the moment the window is armed (whole seconds).
		{"2h rolls", "2h", "UTC", "2026-11-23T13:20:00Z", "2026-11-23T15:20:00Z"},
		{"1h late evening", "1h", "UTC", "2026-11-23T23:30:00Z", "2026-11-24T00:30:00Z"},
		{"30m", "30m", "UTC", "2026-11-23T10:31:00Z", "2026-11-23T11:01:00Z"},
		{"90m", "90m", "UTC", "2026-11-23T10:15:00Z", "2026-11-23T11:45:00Z"},
		{"30s truncates to the second", "30s", "UTC", "2026-11-23T10:00:29.5Z", "2026-11-23T10:00:59Z"},
		{"7h", "7h", "Asia/Kolkata", "2026-11-23T10:15:30.25Z", "2026-11-23T17:15:30Z"},
		// An hour is an hour of real time, DST or not.
		{"1h across a DST gap", "1h", "America/New_York", "2026-03-08T01:30:00-05:00", "2026-03-08T03:30:00-04:00"},
		{"1h into the repeated hour", "1h", "America/New_York", "2026-11-01T01:30:00-04:00", "2026-11-01T01:30:00-05:00"},
		{"36h rolls", "36h", "UTC", "2026-11-23T10:00:00Z", "2026-11-24T22:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc := mustLoc(t, tt.zone)
			got := NextReset(mustDur(t, tt.dur), at(t, tt.from), loc)
			want := at(t, tt.want)
			if !got.Equal(want) {
				t.Fatalf("NextReset(%s, %s, %s) = %s, want %s", tt.dur, tt.from, tt.zone, got, want.In(loc))
			}
			if !got.After(at(t, tt.from)) {
				t.Fatalf("reset %s is not after from", got)
			}
			if got.Location() != loc {
				t.Fatalf("reset is in %s, want %s", got.Location(), loc)
			}
		})
	}
}

func TestNextResetNilLocationIsUTC(t *testing.T) {
	got := NextReset(Duration{1, Day}, at(t, "2026-11-23T22:00:00-05:00"), nil)
	if want := at(t, "2026-11-25T00:00:00Z"); !got.Equal(want) {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func TestWindowStart(t *testing.T) {
	tests := []struct {
		name, dur, zone, resetAt, want string
	}{
		{"1d", "1d", "UTC", "2026-11-24T00:00:00Z", "2026-11-23T00:00:00Z"},
		{"1d over spring forward", "1d", "America/New_York", "2026-03-09T00:00:00-04:00", "2026-03-08T00:00:00-05:00"},
		{"1w", "1w", "UTC", "2026-11-30T00:00:00Z", "2026-11-23T00:00:00Z"},
		{"30d is the month", "30d", "UTC", "2027-03-01T00:00:00Z", "2027-02-01T00:00:00Z"},
		{"1mo", "1mo", "Europe/Berlin", "2027-01-01T00:00:00+01:00", "2026-12-01T00:00:00+01:00"},
		{"3mo", "3mo", "UTC", "2027-01-01T00:00:00Z", "2026-10-01T00:00:00Z"},
		{"10d", "10d", "UTC", "2026-12-03T00:00:00Z", "2026-11-23T00:00:00Z"},
		{"2h", "2h", "UTC", "2026-11-24T00:00:00Z", "2026-11-23T22:00:00Z"},
		{"1h across a DST gap", "1h", "America/New_York", "2026-03-08T03:00:00-04:00", "2026-03-08T01:00:00-05:00"},
		{"7h", "7h", "UTC", "2026-11-23T17:15:30Z", "2026-11-23T10:15:30Z"},
		{"48h is 2d", "48h", "UTC", "2026-11-25T00:00:00Z", "2026-11-23T00:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc := mustLoc(t, tt.zone)
			got := WindowStart(mustDur(t, tt.dur), at(t, tt.resetAt), loc)
			if want := at(t, tt.want); !got.Equal(want) {
				t.Fatalf("WindowStart(%s, %s) = %s, want %s", tt.dur, tt.resetAt, got, want.In(loc))
			}
		})
	}
}

// TestResetChain walks a year of windows for every kind of duration in zones with DST and checks
// that windows are contiguous: each reset is after the last, and the window that ends at a reset
// starts at the previous one.
func TestResetChain(t *testing.T) {
	for _, zone := range []string{"UTC", "America/New_York", "Europe/Berlin", "America/Santiago", "Australia/Lord_Howe", "Asia/Kolkata"} {
		loc := mustLoc(t, zone)
		for _, ds := range []string{"1d", "1w", "30d", "1mo", "3mo", "10d", "6h", "90m"} {
			t.Run(zone+"/"+ds, func(t *testing.T) {
				d := mustDur(t, ds)
				start := at(t, "2026-01-01T00:00:00Z")
				r := NextReset(d, start, loc)
				limit := 400
				if d.Unit == Minute || d.Unit == Hour {
					limit = 3000
				}
				for i := 0; i < limit; i++ {
					next := NextReset(d, r, loc)
					if !next.After(r) {
						t.Fatalf("reset %s is not after %s", next, r)
					}
					if ws := WindowStart(d, next, loc); !ws.Equal(r) {
						t.Fatalf("WindowStart(%s) = %s, want the previous reset %s", next.In(loc), ws.In(loc), r.In(loc))
					}
					if d.Unit == Day && d.N == 1 {
						if h, m, s := next.In(loc).Clock(); (h != 0 || m != 0 || s != 0) && h != 1 {
							t.Fatalf("daily reset at %s is not at (or just after) midnight", next.In(loc))
						}
					}
					r = next
				}
			})
		}
	}
}

package budget

import "time"

// The reset calendar follows LiteLLM (get_next_standardized_reset_time in
// litellm/litellm_core_utils/duration_parser.py, and docs/proxy/budget_reset_and_tz.md as of
// 2026-10), evaluated in the configured time zone (litellm_settings.timezone, default UTC):
//
//	1d, 24h          next midnight
//	7d, 1w           next Monday 00:00 (LiteLLM's code and budget_reset_and_tz; users.md says Sunday)
//	30d              the 1st of next month 00:00
//	other Nd, Nw     midnight today + N days (N×7 for weeks)
//	1mo              the 1st of next month 00:00
//	Ns, Nm, Nh       from + N units: sub-day windows roll forward from the moment they are armed
//	                 (LiteLLM's current rule; older releases aligned them to clock multiples)
//
// Where LiteLLM is silent or refuses, we choose, and say so:
//   - Nh that is a whole number of days (48h) is treated as that many days; other spans of a day
//     or more (36h) roll like the sub-day ones.
//   - Nmo with N>1 (LiteLLM raises): N dividing 12 aligns to calendar boundaries (3mo: quarters,
//     6mo: half-years, 12mo: years); other N give the 1st of the month N months on.
//   - LiteLLM's newer budget_reset_time (a time of day other than midnight) is not supported.
//
// A day is a calendar day, not 24 hours: across a DST change a daily window is 23 or 25 hours
// long. A wall-clock time that does not exist (a DST gap, such as midnight in Santiago on the day
// clocks spring forward) resolves to the first instant after the gap.

// NextReset is the first reset strictly after from for a budget of length d in loc (nil = UTC).
func NextReset(d Duration, from time.Time, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	t := from.In(loc)
	y, mo, day := t.Date()
	switch d.Unit {
	case Second, Minute, Hour:
		span := int64(d.N) * d.Unit.seconds()
		if span%secondsPerDay == 0 {
			return nextDays(int(span/secondsPerDay), t, loc)
		}
		return t.Truncate(time.Second).Add(time.Duration(span) * time.Second)
	case Day:
		return nextDays(d.N, t, loc)
	case Week:
		return nextDays(d.N*7, t, loc)
	case Month:
		if 12%d.N == 0 {
			// Months are counted from January, so 1mo is every month, 3mo quarters, 12mo years.
			m0 := int(mo) - 1
			return date(y, time.Month((m0/d.N+1)*d.N+1), 1, 0, 0, 0, loc)
		}
		return date(y, mo+time.Month(d.N), 1, 0, 0, 0, loc)
	}
	// An invalid Duration: fall back to LiteLLM's default, the next midnight.
	return date(y, mo, day+1, 0, 0, 0, loc)
}

const secondsPerDay = 86400

// rolling reports the span of a duration whose windows roll (sub-day and other spans that are
// not whole days) rather than follow the calendar.
func (d Duration) rolling() (time.Duration, bool) {
	span := int64(d.N) * d.Unit.seconds()
	if span == 0 || span%secondsPerDay == 0 {
		return 0, false
	}
	return time.Duration(span) * time.Second, true
}

func nextDays(n int, t time.Time, loc *time.Location) time.Time {
	y, mo, day := t.Date()
	switch n {
	case 1:
		return date(y, mo, day+1, 0, 0, 0, loc)
	case 7:
		// LiteLLM: days until Monday, a full week when today is Monday.
		until := (8 - int(t.Weekday())) % 7
		if until == 0 {
			until = 7
		}
		return date(y, mo, day+until, 0, 0, 0, loc)
	case 30:
		return date(y, mo+1, 1, 0, 0, 0, loc)
	}
	return date(y, mo, day+n, 0, 0, 0, loc)
}

// WindowStart is the start of the window that ends at resetAt: the reset before it. It is what
// spend is recomputed from (logs with start time >= WindowStart) when the app starts.
func WindowStart(d Duration, resetAt time.Time, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	t := resetAt.In(loc)
	y, mo, day := t.Date()
	switch d.Unit {
	case Second, Minute, Hour:
		span := int64(d.N) * d.Unit.seconds()
		if span%secondsPerDay == 0 {
			return prevDays(int(span/secondsPerDay), t, loc)
		}
		return resetAt.Add(-time.Duration(span) * time.Second)
	case Day:
		return prevDays(d.N, t, loc)
	case Week:
		return prevDays(d.N*7, t, loc)
	case Month:
		return date(y, mo-time.Month(d.N), 1, 0, 0, 0, loc)
	}
	return date(y, mo, day-1, 0, 0, 0, loc)
}

func prevDays(n int, t time.Time, loc *time.Location) time.Time {
	y, mo, day := t.Date()
	if n == 30 {
		return date(y, mo-1, 1, 0, 0, 0, loc)
	}
	return date(y, mo, day-n, 0, 0, 0, loc)
}

// date is time.Date, except that a wall time inside a DST gap resolves to the first instant after
// the gap. time.Date resolves it to an instant whose wall clock reads earlier (Santiago's missing
// midnight becomes 23:00 the day before), which would put a "next midnight" in the past.
// Ambiguous wall times (the repeated hour) keep time.Date's choice, the first occurrence.
func date(y int, mo time.Month, d, h, mi, s int, loc *time.Location) time.Time {
	c := time.Date(y, mo, d, h, mi, s, 0, loc)
	want := time.Date(y, mo, d, h, mi, s, 0, time.UTC) // the wall clock asked for, normalised
	cy, cmo, cd := c.Date()
	ch, cmi, cs := c.Clock()
	got := time.Date(cy, cmo, cd, ch, cmi, cs, 0, time.UTC)
	if got.Equal(want) {
		return c
	}
	// c is in the gap's shadow; the same wall time read with the other offset is after the gap.
	x := c.Add(want.Sub(got))
	lo, hi := c, x
	if hi.Before(lo) {
		lo, hi = hi, lo
	}
	_, offHi := hi.Zone()
	if _, offLo := lo.Zone(); offLo == offHi {
		return hi
	}
	// Find the transition: the first whole second whose offset is hi's.
	for hi.Sub(lo) > time.Second {
		mid := lo.Add(hi.Sub(lo) / 2).Truncate(time.Second)
		if !mid.After(lo) {
			break
		}
		if _, off := mid.Zone(); off == offHi {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

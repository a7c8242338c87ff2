// Package budget is the arithmetic of spend limits: LiteLLM's budget_duration grammar, the reset
// calendar, threshold crossings and their de-duplication, an in-memory ledger that reserves a
// request's expected cost before the call and settles it after, and per-key rate limits.
// It is pure: no I/O, no clocks it does not take as arguments or options.
package budget

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Unit is the unit of a Duration.
type Unit int

// The units of LiteLLM's duration grammar. Minute is "m" and Month is "mo", as in LiteLLM.
const (
	Second Unit = iota + 1
	Minute
	Hour
	Day
	Week
	Month
)

func (u Unit) suffix() string {
	switch u {
	case Second:
		return "s"
	case Minute:
		return "m"
	case Hour:
		return "h"
	case Day:
		return "d"
	case Week:
		return "w"
	case Month:
		return "mo"
	}
	return "?"
}

// seconds is the length of one unit for the clock units (0 for calendar units).
func (u Unit) seconds() int64 {
	switch u {
	case Second:
		return 1
	case Minute:
		return 60
	case Hour:
		return 3600
	}
	return 0
}

// maxN caps N per unit at about a century, so that no arithmetic on a Duration can overflow.
var maxN = map[Unit]int{
	Second: 3_155_760_000,
	Minute: 52_596_000,
	Hour:   876_600,
	Day:    36_525,
	Week:   5_217,
	Month:  1_200,
}

// Duration is a budget window length such as 30d or 1mo.
type Duration struct {
	N    int
	Unit Unit
}

// String gives the canonical LiteLLM form: "30s", "1d", "1mo". The words daily, weekly and
// monthly come back as 1d, 1w and 1mo.
func (d Duration) String() string { return strconv.Itoa(d.N) + d.Unit.suffix() }

// MarshalText writes the canonical form, so a Duration can sit in JSON as a string.
func (d Duration) MarshalText() ([]byte, error) {
	if err := d.valid(); err != nil {
		return nil, err
	}
	return []byte(d.String()), nil
}

// UnmarshalText accepts everything ParseDuration accepts.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

func (d Duration) valid() error {
	max, ok := maxN[d.Unit]
	if !ok || d.N < 1 || d.N > max {
		return fmt.Errorf("%w: %d%s", ErrInvalidDuration, d.N, d.Unit.suffix())
	}
	return nil
}

// ErrInvalidDuration is wrapped by every error ParseDuration returns.
var ErrInvalidDuration = errors.New("invalid duration")

// Accepted describes the grammar, for error messages (the gateway returns it in a 400).
const Accepted = `a positive whole number followed by s (seconds), m (minutes), h (hours), d (days), ` +
	`w (weeks) or mo (months), such as "30s", "30m", "30h", "30d", "1w" or "1mo"; ` +
	`or one of "daily", "weekly", "monthly"`

var durationRE = regexp.MustCompile(`^([0-9]+)(mo|s|m|h|d|w)$`)

// words are accepted on top of LiteLLM's grammar because LiteLLM's own guide for OpenClaw users
// sends "monthly", which LiteLLM itself rejects. "hourly" and "yearly" are not in LiteLLM's docs.
var words = map[string]Duration{
	"daily":   {1, Day},
	"weekly":  {1, Week},
	"monthly": {1, Month},
}

// ParseDuration parses LiteLLM's budget_duration grammar (Ns, Nm, Nh, Nd, Nw, Nmo; m is minutes)
// and the words daily, weekly and monthly. Units are case-sensitive ("1M" is refused rather than
// guessed); words are not. Surrounding spaces are ignored.
func ParseDuration(s string) (Duration, error) {
	t := strings.TrimSpace(s)
	if d, ok := words[strings.ToLower(t)]; ok {
		return d, nil
	}
	m := durationRE.FindStringSubmatch(t)
	if m == nil {
		return Duration{}, fmt.Errorf("%w %q: want %s", ErrInvalidDuration, s, Accepted)
	}
	var u Unit
	switch m[2] {
	case "s":
		u = Second
	case "m":
		u = Minute
	case "h":
		u = Hour
	case "d":
		u = Day
	case "w":
		u = Week
	case "mo":
		u = Month
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n < 1 || n > maxN[u] {
		return Duration{}, fmt.Errorf("%w %q: the number must be between 1 and %d for %q; want %s",
			ErrInvalidDuration, s, maxN[u], m[2], Accepted)
	}
	return Duration{N: n, Unit: u}, nil
}

// ParseOptionalDuration is ParseDuration for fields where LiteLLM treats "", "none" and "null"
// (any case) as "no reset": it returns nil for those.
func ParseOptionalDuration(s string) (*Duration, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "none", "null":
		return nil, nil
	}
	d, err := ParseDuration(s)
	if err != nil {
		return nil, err
	}
	return &d, nil
}

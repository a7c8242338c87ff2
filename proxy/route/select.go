package route

import (
	"math"
	"strconv"
	"time"
)

// group is one model group: the deployments sharing a model_name.
type group struct {
	name    string
	pat     pattern // stars == 0 for an exact group
	members []*member
	tiers   bool // members differ in litellm_params.order
}

// member is a deployment inside its group, with its pick weight and health.
type member struct {
	d      *Deployment
	weight float64
	order  int // litellm_params.order, noOrder when unset (see order.go)
	health health
}

// weightsFor sets the members' weights the way LiteLLM's simple-shuffle does: by "weight" if any
// member of the group has one, else by "rpm", else uniform. Members without the chosen key get 0,
// so they serve only when no weighted member is available.
func weightsFor(ms []*member) {
	for _, key := range []string{"weight", "rpm"} {
		any := false
		for _, m := range ms {
			if _, ok := paramNumber(m.d.Config.Params.Extra, key); ok {
				any = true
				break
			}
		}
		if !any {
			continue
		}
		for _, m := range ms {
			w, _ := paramNumber(m.d.Config.Params.Extra, key)
			m.weight = w
		}
		return
	}
	for _, m := range ms {
		m.weight = 1
	}
}

// paramNumber reads a non-negative number from litellm_params (YAML gives ints or floats; an
// os.environ/ reference gives a string).
func paramNumber(extra map[string]any, key string) (float64, bool) {
	v, ok := extra[key]
	if !ok {
		return 0, false
	}
	var f float64
	switch x := v.(type) {
	case int:
		f = float64(x)
	case int64:
		f = float64(x)
	case uint64:
		f = float64(x)
	case float64:
		f = x
	case float32:
		f = float64(x)
	case string:
		p, err := strconv.ParseFloat(x, 64)
		if err != nil {
			return 0, false
		}
		f = p
	default:
		return 0, false
	}
	if f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// marks is a per-request set of member indexes; it allocates only for groups over 64 members.
type marks struct {
	small uint64
	big   []bool
}

func (s *marks) has(i int) bool {
	if i < 64 {
		return s.small&(1<<i) != 0
	}
	return i-64 < len(s.big) && s.big[i-64]
}

func (s *marks) set(i int) {
	if i < 64 {
		s.small |= 1 << i
		return
	}
	for len(s.big) <= i-64 {
		s.big = append(s.big, false)
	}
	s.big[i-64] = true
}

// pick chooses the member for the next attempt: one not cooling down and not excluded, preferring
// members not yet tried in this request, weighted at random. When none is available it returns -1
// and, if some were only cooling down, the earliest time one is free (zero otherwise).
func (g *group) pick(now func() time.Time, rnd func() float64, tried, excluded *marks) (int, time.Time) {
	if g.tiers {
		m := g.tierMask(now, tried, excluded)
		excluded = &m
	}
	var (
		nowNs                 int64 // read lazily: most picks meet no cooldown at all
		earliest              int64
		nFresh, nAny          int
		wFresh, wAny          float64
		lastFresh, lastAnyIdx = -1, -1
	)
	for i, m := range g.members {
		if excluded.has(i) {
			continue
		}
		if until := m.health.until.Load(); until != 0 {
			if nowNs == 0 {
				nowNs = now().UnixNano()
			}
			if until > nowNs {
				if earliest == 0 || until < earliest {
					earliest = until
				}
				continue
			}
		}
		nAny++
		wAny += m.weight
		lastAnyIdx = i
		if !tried.has(i) {
			nFresh++
			wFresh += m.weight
			lastFresh = i
		}
	}
	if nAny == 0 {
		if earliest == 0 {
			return -1, time.Time{}
		}
		return -1, time.Unix(0, earliest)
	}
	fresh, n, total, last := true, nFresh, wFresh, lastFresh
	if nFresh == 0 {
		fresh, n, total, last = false, nAny, wAny, lastAnyIdx
	}
	if n == 1 {
		return last, time.Time{}
	}
	uniform := total <= 0
	var x float64
	if uniform {
		x = rnd() * float64(n)
	} else {
		x = rnd() * total
	}
	chosen := last
	for i, m := range g.members {
		if excluded.has(i) || (fresh && tried.has(i)) {
			continue
		}
		if until := m.health.until.Load(); until != 0 && until > nowNs && nowNs != 0 {
			continue
		}
		w := m.weight
		if uniform {
			w = 1
		}
		if w <= 0 {
			continue
		}
		if x < w {
			return i, time.Time{}
		}
		x -= w
		chosen = i
	}
	// Rounding can leave x just past the last weight.
	return chosen, time.Time{}
}

package route

import (
	"math"
	"time"
)

// LiteLLM's litellm_params.order is a priority tier inside a group: the deployments with the lowest
// order serve, the others only when none of those can (all tried in this request, cooling down, or
// excluded). A deployment without an order comes after every one that has one.

// noOrder is the tier of a member without litellm_params.order.
const noOrder = math.MaxInt

// ordersFor sets each member's tier and reports whether the group has more than one tier (only then
// does pick need to narrow its choice).
func ordersFor(ms []*member) bool {
	first, tiers := 0, false
	for i, m := range ms {
		m.order = noOrder
		if f, ok := paramNumber(m.d.Config.Params.Extra, "order"); ok {
			m.order = int(f)
		}
		if i == 0 {
			first = m.order
		} else if m.order != first {
			tiers = true
		}
	}
	return tiers
}

// tierMask adds to excluded every member outside the best tier still available: the lowest order
// among the members pick could take (not excluded, not cooling down), looking first at those not yet
// tried in this request. With nothing available it leaves excluded as it is, so pick reports the
// earliest end of a cooldown as before.
func (g *group) tierMask(now func() time.Time, tried, excluded *marks) marks {
	out := marks{small: excluded.small, big: append([]bool(nil), excluded.big...)}
	var nowNs int64
	bestFresh, bestAny := noOrder, noOrder
	found, fresh := false, false
	for i, m := range g.members {
		if excluded.has(i) {
			continue
		}
		if until := m.health.until.Load(); until != 0 {
			if nowNs == 0 {
				nowNs = now().UnixNano()
			}
			if until > nowNs {
				continue
			}
		}
		found = true
		bestAny = min(bestAny, m.order)
		if !tried.has(i) {
			fresh = true
			bestFresh = min(bestFresh, m.order)
		}
	}
	if !found {
		return out
	}
	best := bestAny
	if fresh {
		best = bestFresh
	}
	for i, m := range g.members {
		if m.order != best {
			out.set(i)
		}
	}
	return out
}

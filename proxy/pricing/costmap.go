package pricing

import (
	"errors"
	"sync/atomic"
)

// CostMap is a price table read from a cost map in LiteLLM's format
// (model_prices_and_context_window.json, or any file with its field names), used to refresh
// prices without a new release.
type CostMap struct {
	t *priceTable
	// Origin names where the map came from (its URL), for `clawgate prices` and logs.
	Origin string
}

// ParseCostMap reads a LiteLLM-format cost map. Fields Clawgate does not use are skipped, as are
// entries without a price (LiteLLM lists image and audio models priced per image or second). A
// map that is not a JSON object of entries, or in which no model has a price, is an error: a
// truncated download or an error page must not replace good prices.
func ParseCostMap(data []byte, origin string) (*CostMap, error) {
	t, err := parseTable(data, false)
	if err != nil {
		return nil, err
	}
	if len(t.byKey) == 0 {
		return nil, errors.New("no model in it has a price")
	}
	return &CostMap{t: t, Origin: origin}, nil
}

// Len is the number of priced models in the map.
func (c *CostMap) Len() int { return len(c.t.byKey) }

var costMap atomic.Pointer[CostMap]

// SetCostMap makes Lookup consult c before the embedded table (nil goes back to the table
// alone). Callers that cache prices must drop their cache after it.
func SetCostMap(c *CostMap) { costMap.Store(c) }

// CurrentCostMap is the cost map in force, or nil.
func CurrentCostMap() *CostMap { return costMap.Load() }

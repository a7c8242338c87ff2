// Package pricing holds an embedded table of model prices in LiteLLM's cost-map field names
// (input_cost_per_token, cache_read_input_token_cost, ..._above_200k_tokens, max_output_tokens,
// ...), finds a model's entry the way LiteLLM names models, applies per-route model_info
// overrides, and prices a request's usage with LiteLLM's formula. Prices come from the providers'
// own pricing pages; each entry's "_source" says which (see README.md).
package pricing

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Price is one cost-map entry. Pointer fields are nil when the entry does not set them. All
// costs are USD per token.
type Price struct {
	InputCostPerToken                   *float64
	OutputCostPerToken                  *float64
	OutputCostPerReasoningToken         *float64 // nil: reasoning bills at OutputCostPerToken
	CacheReadInputTokenCost             *float64
	CacheCreationInputTokenCost         *float64 // cache writes (Anthropic's 5-minute writes)
	CacheCreationInputTokenCostAbove1hr *float64 // 1-hour writes; see Cost
	// Tiers are the _above_Nk_tokens prices, by ascending threshold.
	Tiers []Tier

	MaxInputTokens  *int
	MaxOutputTokens *int
	MaxTokens       *int // LiteLLM's legacy field

	LiteLLMProvider string
	Mode            string

	SupportsReasoning       *bool
	SupportsVision          *bool
	SupportsFunctionCalling *bool
	SupportsPromptCaching   *bool

	// Key is the table entry this price came from ("" when built from overrides alone).
	Key string
	// Source says where the entry's numbers were published.
	Source string
	// Origin says which table the entry came from: OriginEmbedded, or the cost map's origin (its
	// URL). model_info overrides leave it as it was; see Overridden.
	Origin string
}

// OriginEmbedded is the Origin of the table compiled into the binary.
const OriginEmbedded = "embedded table"

// Tier holds the prices that apply to a whole request whose prompt tokens (cache reads and writes
// included) exceed Above. A nil field falls back to the base price.
type Tier struct {
	Above                       int
	InputCostPerToken           *float64
	OutputCostPerToken          *float64
	CacheReadInputTokenCost     *float64
	CacheCreationInputTokenCost *float64
}

var tierKeyRE = regexp.MustCompile(`^(input_cost_per_token|output_cost_per_token|cache_read_input_token_cost|cache_creation_input_token_cost)_above_([0-9]+)(k?)_tokens$`)

// With returns a copy of p with model_info overrides applied. Keys are LiteLLM cost-map names
// (any field of Price, tiers as ..._above_Nk_tokens); numbers may be given as numbers or strings
// ("3e-7", as YAML sometimes yields). Unknown keys (id, base_model, ...), nil values and values
// of the wrong type are ignored: config parsing reports those. As in LiteLLM, overriding
// input_cost_per_token alone keeps the entry's cache prices; set them too (to 0 if need be).
func (p Price) With(overrides map[string]any) Price {
	q := p.clone()
	keys := make([]string, 0, len(overrides))
	for k := range overrides {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic, whatever the map order
	for _, k := range keys {
		_ = q.set(k, overrides[k])
	}
	return q
}

// set applies one cost-map field. It reports unknown keys and bad values; the table loader
// treats those as errors, With ignores them.
func (p *Price) set(key string, v any) error {
	if v == nil {
		return nil
	}
	floatField := map[string]**float64{
		"input_cost_per_token":                      &p.InputCostPerToken,
		"output_cost_per_token":                     &p.OutputCostPerToken,
		"output_cost_per_reasoning_token":           &p.OutputCostPerReasoningToken,
		"cache_read_input_token_cost":               &p.CacheReadInputTokenCost,
		"cache_creation_input_token_cost":           &p.CacheCreationInputTokenCost,
		"cache_creation_input_token_cost_above_1hr": &p.CacheCreationInputTokenCostAbove1hr,
	}
	intField := map[string]**int{
		"max_input_tokens":  &p.MaxInputTokens,
		"max_output_tokens": &p.MaxOutputTokens,
		"max_tokens":        &p.MaxTokens,
	}
	boolField := map[string]**bool{
		"supports_reasoning":        &p.SupportsReasoning,
		"supports_vision":           &p.SupportsVision,
		"supports_function_calling": &p.SupportsFunctionCalling,
		"supports_prompt_caching":   &p.SupportsPromptCaching,
	}
	if dst, ok := floatField[key]; ok {
		f, ok := toFloat(v)
		if !ok || f < 0 {
			return fmt.Errorf("%s: want a non-negative number, got %v", key, v)
		}
		*dst = &f
		return nil
	}
	if dst, ok := intField[key]; ok {
		i, ok := toInt(v)
		if !ok || i < 0 {
			return fmt.Errorf("%s: want a non-negative integer, got %v", key, v)
		}
		*dst = &i
		return nil
	}
	if dst, ok := boolField[key]; ok {
		b, ok := toBool(v)
		if !ok {
			return fmt.Errorf("%s: want a boolean, got %v", key, v)
		}
		*dst = &b
		return nil
	}
	switch key {
	case "litellm_provider", "mode", "_source":
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s: want a string, got %v", key, v)
		}
		switch key {
		case "litellm_provider":
			p.LiteLLMProvider = s
		case "mode":
			p.Mode = s
		default:
			p.Source = s
		}
		return nil
	}
	if m := tierKeyRE.FindStringSubmatch(key); m != nil {
		n, err := strconv.Atoi(m[2])
		if err != nil || n <= 0 || n > 100_000_000 {
			return fmt.Errorf("%s: bad threshold", key)
		}
		if m[3] == "k" {
			n *= 1000
		}
		f, ok := toFloat(v)
		if !ok || f < 0 {
			return fmt.Errorf("%s: want a non-negative number, got %v", key, v)
		}
		t := p.tier(n)
		switch m[1] {
		case "input_cost_per_token":
			t.InputCostPerToken = &f
		case "output_cost_per_token":
			t.OutputCostPerToken = &f
		case "cache_read_input_token_cost":
			t.CacheReadInputTokenCost = &f
		case "cache_creation_input_token_cost":
			t.CacheCreationInputTokenCost = &f
		}
		return nil
	}
	return fmt.Errorf("unknown cost-map field %q", key)
}

// tier returns the tier for threshold n, adding it in order if missing.
func (p *Price) tier(n int) *Tier {
	i := sort.Search(len(p.Tiers), func(i int) bool { return p.Tiers[i].Above >= n })
	if i == len(p.Tiers) || p.Tiers[i].Above != n {
		p.Tiers = append(p.Tiers, Tier{})
		copy(p.Tiers[i+1:], p.Tiers[i:])
		p.Tiers[i] = Tier{Above: n}
	}
	return &p.Tiers[i]
}

// Fields returns the entry in cost-map form, for /model/info and the like.
func (p Price) Fields() map[string]any {
	m := map[string]any{}
	putF := func(k string, v *float64) {
		if v != nil {
			m[k] = *v
		}
	}
	putI := func(k string, v *int) {
		if v != nil {
			m[k] = *v
		}
	}
	putB := func(k string, v *bool) {
		if v != nil {
			m[k] = *v
		}
	}
	putF("input_cost_per_token", p.InputCostPerToken)
	putF("output_cost_per_token", p.OutputCostPerToken)
	putF("output_cost_per_reasoning_token", p.OutputCostPerReasoningToken)
	putF("cache_read_input_token_cost", p.CacheReadInputTokenCost)
	putF("cache_creation_input_token_cost", p.CacheCreationInputTokenCost)
	putF("cache_creation_input_token_cost_above_1hr", p.CacheCreationInputTokenCostAbove1hr)
	for _, t := range p.Tiers {
		suffix := fmt.Sprintf("_above_%d_tokens", t.Above)
		if t.Above%1000 == 0 {
			suffix = fmt.Sprintf("_above_%dk_tokens", t.Above/1000)
		}
		putF("input_cost_per_token"+suffix, t.InputCostPerToken)
		putF("output_cost_per_token"+suffix, t.OutputCostPerToken)
		putF("cache_read_input_token_cost"+suffix, t.CacheReadInputTokenCost)
		putF("cache_creation_input_token_cost"+suffix, t.CacheCreationInputTokenCost)
	}
	putI("max_input_tokens", p.MaxInputTokens)
	putI("max_output_tokens", p.MaxOutputTokens)
	putI("max_tokens", p.MaxTokens)
	if p.LiteLLMProvider != "" {
		m["litellm_provider"] = p.LiteLLMProvider
	}
	if p.Mode != "" {
		m["mode"] = p.Mode
	}
	putB("supports_reasoning", p.SupportsReasoning)
	putB("supports_vision", p.SupportsVision)
	putB("supports_function_calling", p.SupportsFunctionCalling)
	putB("supports_prompt_caching", p.SupportsPromptCaching)
	return m
}

// clone copies p so that changing the copy (With) never touches the table.
func (p Price) clone() Price {
	q := p
	q.InputCostPerToken = cp(p.InputCostPerToken)
	q.OutputCostPerToken = cp(p.OutputCostPerToken)
	q.OutputCostPerReasoningToken = cp(p.OutputCostPerReasoningToken)
	q.CacheReadInputTokenCost = cp(p.CacheReadInputTokenCost)
	q.CacheCreationInputTokenCost = cp(p.CacheCreationInputTokenCost)
	q.CacheCreationInputTokenCostAbove1hr = cp(p.CacheCreationInputTokenCostAbove1hr)
	q.MaxInputTokens = cp(p.MaxInputTokens)
	q.MaxOutputTokens = cp(p.MaxOutputTokens)
	q.MaxTokens = cp(p.MaxTokens)
	q.SupportsReasoning = cp(p.SupportsReasoning)
	q.SupportsVision = cp(p.SupportsVision)
	q.SupportsFunctionCalling = cp(p.SupportsFunctionCalling)
	q.SupportsPromptCaching = cp(p.SupportsPromptCaching)
	q.Tiers = nil
	for _, t := range p.Tiers {
		q.Tiers = append(q.Tiers, Tier{
			Above:                       t.Above,
			InputCostPerToken:           cp(t.InputCostPerToken),
			OutputCostPerToken:          cp(t.OutputCostPerToken),
			CacheReadInputTokenCost:     cp(t.CacheReadInputTokenCost),
			CacheCreationInputTokenCost: cp(t.CacheCreationInputTokenCost),
		})
	}
	return q
}

func cp[T any](v *T) *T {
	if v == nil {
		return nil
	}
	c := *v
	return &c
}

func toFloat(v any) (float64, bool) {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case float32:
		f = float64(x)
	case int:
		f = float64(x)
	case int64:
		f = float64(x)
	case int32:
		f = float64(x)
	case uint64:
		f = float64(x)
	case json.Number:
		g, err := x.Float64()
		if err != nil {
			return 0, false
		}
		f = g
	case string:
		g, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			return 0, false
		}
		f = g
	default:
		return 0, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

func toInt(v any) (int, bool) {
	f, ok := toFloat(v)
	if !ok || f != math.Trunc(f) || math.Abs(f) > 1e15 {
		return 0, false
	}
	return int(f), true
}

func toBool(v any) (bool, bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case string:
		b, err := strconv.ParseBool(strings.TrimSpace(x))
		return b, err == nil
	}
	return false, false
}

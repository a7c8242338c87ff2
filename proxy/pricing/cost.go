package pricing

// Usage is what a request consumed, in the OpenAI convention: PromptTokens includes the cache
// reads and cache writes, and CompletionTokens includes the reasoning tokens. Callers holding
// Anthropic-style counts (input_tokens without the cache) add the cache counts in first.
type Usage struct {
	PromptTokens     int
	CompletionTokens int
	CacheReadTokens  int
	CacheWriteTokens int
	ReasoningTokens  int
}

// rates are the per-token prices that apply to one request.
type rates struct {
	input, output, reasoning, cacheRead, cacheWrite float64
}

// rates picks the tier for a prompt of promptTokens: the whole request bills at the highest tier
// whose threshold the prompt exceeds (strictly), as LiteLLM and the providers do. A tier price
// the entry does not set falls back to the base price. Cache prices the entry does not set at
// all fall back to the input price.
func (p Price) rates(promptTokens int) rates {
	var t *Tier
	for i := range p.Tiers {
		if promptTokens > p.Tiers[i].Above {
			t = &p.Tiers[i]
		}
	}
	pick := func(tier, base *float64) *float64 {
		if tier != nil {
			return tier
		}
		return base
	}
	var r rates
	var in, out, cr, cw *float64
	in, out, cr, cw = p.InputCostPerToken, p.OutputCostPerToken, p.CacheReadInputTokenCost, p.CacheCreationInputTokenCost
	if t != nil {
		in = pick(t.InputCostPerToken, in)
		out = pick(t.OutputCostPerToken, out)
		cr = pick(t.CacheReadInputTokenCost, cr)
		cw = pick(t.CacheCreationInputTokenCost, cw)
	}
	if in != nil {
		r.input = *in
	}
	if out != nil {
		r.output = *out
	}
	// LiteLLM bills unpriced cache tokens at 0. Billing them at the input price instead
	// over-counts rather than under-counts, which is the safe side for a budget.
	r.cacheRead, r.cacheWrite = r.input, r.input
	if cr != nil {
		r.cacheRead = *cr
	}
	if cw != nil {
		r.cacheWrite = *cw
	}
	r.reasoning = r.output
	if p.OutputCostPerReasoningToken != nil {
		r.reasoning = *p.OutputCostPerReasoningToken
	}
	return r
}

// priced reports whether p has a price at all. As in LiteLLM, a price that sets only one of
// input and output bills the other at 0.
func (p Price) priced() bool { return p.InputCostPerToken != nil || p.OutputCostPerToken != nil }

// Cost prices u with LiteLLM's formula (generic_cost_per_token):
//
//	(prompt − cache reads − cache writes) × input
//	+ cache reads × cache_read_input_token_cost
//	+ cache writes × cache_creation_input_token_cost
//	+ (completion − reasoning) × output + reasoning × (output_cost_per_reasoning_token or output)
//
// at the tier chosen by the prompt size. priced is false, and usd 0, when p has no price: the
// caller logs the request as unpriced rather than as free. All cache writes bill at the
// 5-minute write price: Usage does not split 1-hour writes out.
func Cost(p Price, u Usage) (usd float64, priced bool) {
	if !p.priced() {
		return 0, false
	}
	r := p.rates(u.PromptTokens)
	prompt, read, write := nonNeg(u.PromptTokens), nonNeg(u.CacheReadTokens), nonNeg(u.CacheWriteTokens)
	uncached := prompt - read - write
	if uncached < 0 {
		// Counts that do not add up (cache outside the prompt): bill the cache, not a negative.
		uncached = 0
	}
	completion := nonNeg(u.CompletionTokens)
	reasoning := min(nonNeg(u.ReasoningTokens), completion)
	usd = float64(uncached)*r.input +
		float64(read)*r.cacheRead +
		float64(write)*r.cacheWrite +
		float64(completion-reasoning)*r.output +
		float64(reasoning)*r.reasoning
	return usd, true
}

// MaxCost is the worst-case cost of a request with promptTokens of input and up to maxOutput
// tokens of output, for budget reservations: every prompt token at the dearest input-side price
// (a cache write costs more than plain input) and every output token at the dearest output-side
// price, at the tier of promptTokens. maxOutput <= 0 means the model's max_output_tokens. An
// unpriced model costs 0.
func MaxCost(p Price, promptTokens, maxOutput int) float64 {
	if !p.priced() {
		return 0
	}
	if maxOutput <= 0 {
		_, maxOutput = p.limits()
	}
	r := p.rates(promptTokens)
	in := max(r.input, r.cacheRead, r.cacheWrite)
	out := max(r.output, r.reasoning)
	return float64(nonNeg(promptTokens))*in + float64(nonNeg(maxOutput))*out
}

func nonNeg(n int) int {
	if n < 0 {
		return 0
	}
	return n
}

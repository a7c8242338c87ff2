package config

// PriceFields returns model_info's price and limit keys in LiteLLM cost-map form
// (input_cost_per_token, max_output_tokens, ..._above_200k_tokens and the rest of Extra), the
// overrides a route puts on top of the price table's entry.
func (mi ModelInfo) PriceFields() map[string]any {
	ov := map[string]any{}
	for k, v := range mi.Extra {
		ov[k] = v
	}
	if v := mi.InputCostPerToken; v != nil {
		ov["input_cost_per_token"] = *v
	}
	if v := mi.OutputCostPerToken; v != nil {
		ov["output_cost_per_token"] = *v
	}
	if v := mi.MaxOutputTokens; v != nil {
		ov["max_output_tokens"] = *v
	}
	if v := mi.MaxInputTokens; v != nil {
		ov["max_input_tokens"] = *v
	}
	return ov
}

package proxy

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/clawgate/clawgate/proxy/pricing"
	"github.com/clawgate/clawgate/proxy/route"
)

// priceKey identifies a price: one deployment's one upstream model (wildcards serve many).
type priceKey struct {
	d     *route.Deployment
	model string
}

// prices caches priceFor: the lookup and the overrides cost more than the request's own work.
// Deployments are rebuilt on each config load, so stale entries only hold old pointers; the
// cache is bounded by dropping it whole when it grows large.
var (
	prices     sync.Map
	pricesSize atomic.Int64
)

// priceFor returns the price of a deployment's upstream model: the embedded table's entry with
// the deployment's model_info (and litellm_params cost) overrides on top.
func priceFor(d *route.Deployment, upstreamModel string) pricing.Price {
	k := priceKey{d, upstreamModel}
	if p, ok := prices.Load(k); ok {
		return p.(pricing.Price)
	}
	p := computePrice(d, upstreamModel)
	if pricesSize.Add(1) > 4096 {
		prices.Clear()
		pricesSize.Store(0)
	}
	prices.Store(k, p)
	return p
}

// pricedModel is the provider and model a deployment is priced as: its own, or those of
// model_info.base_model, which names the model when the upstream's name is not one (an Azure
// deployment called "prod-chat" that runs gpt-4o), as in LiteLLM.
func pricedModel(d *route.Deployment, upstreamModel string) (provider, model string) {
	bm, _ := d.Config.Info.Extra["base_model"].(string)
	if bm == "" {
		return d.ProviderName, upstreamModel
	}
	if pre, rest, ok := strings.Cut(bm, "/"); ok {
		return pre, rest
	}
	return d.ProviderName, bm
}

func computePrice(d *route.Deployment, upstreamModel string) pricing.Price {
	p, _ := pricing.Lookup(pricedModel(d, upstreamModel))
	ov := map[string]any{}
	for k, v := range d.Config.Info.Extra {
		ov[k] = v
	}
	if v := d.Config.Info.InputCostPerToken; v != nil {
		ov["input_cost_per_token"] = *v
	}
	if v := d.Config.Info.OutputCostPerToken; v != nil {
		ov["output_cost_per_token"] = *v
	}
	if v := d.Config.Info.MaxOutputTokens; v != nil {
		ov["max_output_tokens"] = *v
	}
	if v := d.Config.Info.MaxInputTokens; v != nil {
		ov["max_input_tokens"] = *v
	}
	if len(ov) == 0 {
		return p
	}
	return p.With(ov)
}

// price fills u.Cost from its tokens and the deployment's price.
func (u *Usage) price(d *route.Deployment) {
	if u.Mock {
		u.Cost, u.Priced = 0, true // no upstream was called: nothing to pay for
		return
	}
	if d == nil || !u.UsageKnown {
		return
	}
	u.Cost, u.Priced = pricing.Cost(priceFor(d, u.Model), pricing.Usage{
		PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens,
		CacheReadTokens: u.CachedTokens, CacheWriteTokens: u.CacheCreationTokens, ReasoningTokens: u.ReasoningTokens,
	})
}

// costString prints a cost with 12 significant digits: exact for any real price, without the
// float noise (1.7699999999999997e-05) of the shortest round-trip form.
func costString(c float64) string { return strconv.FormatFloat(c, 'g', 12, 64) }

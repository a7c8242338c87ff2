package app

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/clawgate/clawgate/proxy/config"
	"github.com/clawgate/clawgate/proxy/pricing"
)

// Prices writes what `clawgate prices [MODEL]` prints. It reads the config, when there is one, as
// the gateway would at start: its routes (model_info prices) and the cached copy of its
// price_map_url (nothing is fetched). Without model it counts the models priced per provider.
func Prices(opts Options, model string, w io.Writer) error {
	cfg, err := pricesConfig(opts)
	if err != nil {
		return err
	}
	if model == "" {
		writePriceCounts(w, cfg)
		return nil
	}
	return writeModelPrice(w, cfg, model)
}

// pricesConfig reads the config if it exists (a missing one is not an error here: the table
// alone answers) and puts its cached cost map in force.
func pricesConfig(opts Options) (*config.Config, error) {
	path, err := configPath(opts.ConfigPath)
	if err != nil {
		return nil, err
	}
	cfg, _, err := config.Load(path)
	if errors.Is(err, os.ErrNotExist) {
		return &config.Config{}, nil
	}
	if err != nil {
		return nil, err
	}
	if url := priceMapURL(cfg); url != "" {
		dir, err := dataDir(opts.DataDir)
		if err != nil {
			return nil, err
		}
		r := newPriceRefresher(url, dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if !r.loadCache() {
			pricing.SetCostMap(nil)
		}
	}
	return cfg, nil
}

// writePriceCounts lists the embedded table's models per provider and mode, and where they came from.
func writePriceCounts(w io.Writer, cfg *config.Config) {
	counts := map[string]map[string]int{}
	for _, k := range pricing.Models() {
		p, _ := pricing.Lookup("", k)
		if counts[p.LiteLLMProvider] == nil {
			counts[p.LiteLLMProvider] = map[string]int{}
		}
		counts[p.LiteLLMProvider][p.Mode]++
	}
	provs := make([]string, 0, len(counts))
	for p := range counts {
		provs = append(provs, p)
	}
	sort.Strings(provs)
	fmt.Fprintf(w, "Embedded price table: %s\n\n", pricing.EmbeddedMeta())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "provider\tchat\tembedding\t")
	total := map[string]int{}
	for _, p := range provs {
		fmt.Fprintf(tw, "%s\t%d\t%d\t\n", p, counts[p]["chat"], counts[p]["embedding"])
		total["chat"] += counts[p]["chat"]
		total["embedding"] += counts[p]["embedding"]
	}
	fmt.Fprintf(tw, "total\t%d\t%d\t\n", total["chat"], total["embedding"])
	tw.Flush()
	if url := priceMapURL(cfg); url != "" {
		if c := pricing.CurrentCostMap(); c != nil {
			fmt.Fprintf(w, "\nRefreshed cost map %s: %d models (searched first)\n", url, c.Len())
		} else {
			fmt.Fprintf(w, "\nCost map %s: not fetched yet (the gateway fetches it at start)\n", url)
		}
	}
}

// writeModelPrice prints the price of model: of each route named model in the config (the table's
// entry with model_info on top), else of the model itself ("provider/model" or a bare name).
func writeModelPrice(w io.Writer, cfg *config.Config, model string) error {
	found := false
	for _, d := range cfg.ModelList {
		if d.ModelName != model {
			continue
		}
		prov, up, _ := strings.Cut(d.Params.Model, "/")
		if up == "" {
			prov, up = "", prov
		}
		lp, lm := prov, up
		if bm, _ := d.Info.Extra["base_model"].(string); bm != "" {
			lp, lm = "", bm
			if pre, rest, ok := strings.Cut(bm, "/"); ok {
				lp, lm = pre, rest
			}
		}
		p, ok := pricing.Lookup(lp, lm)
		ov := d.Info.PriceFields()
		delete(ov, "base_model")
		from := ""
		if len(ov) > 0 {
			p = p.With(ov)
			from = "model_info in the config"
			if ok {
				from += ", on top of the " + originText(p)
			}
		}
		found = true
		fmt.Fprintf(w, "route %s → %s\n", model, d.Params.Model)
		if !ok && len(ov) == 0 {
			fmt.Fprintf(w, "  no price: keys with a budget are refused on this route; add model_info.input_cost_per_token and output_cost_per_token (0 and 0 declares it free)\n\n")
			continue
		}
		writePrice(w, p, from)
	}
	if found {
		return nil
	}
	prov, m := "", model
	if pre, rest, ok := strings.Cut(model, "/"); ok {
		prov, m = pre, rest
	}
	p, ok := pricing.Lookup(prov, m)
	if !ok && prov != "" {
		p, ok = pricing.Lookup("", model)
	}
	if !ok {
		return fmt.Errorf("no price for %s: it is not a route in the config nor a model the price table knows; "+
			"price it with model_info.input_cost_per_token and output_cost_per_token on its route", model)
	}
	fmt.Fprintf(w, "%s\n", model)
	writePrice(w, p, "")
	return nil
}

// originText names the table an entry came from.
func originText(p pricing.Price) string {
	if p.Origin == pricing.OriginEmbedded {
		return "embedded table (" + pricing.EmbeddedMeta().String() + ")"
	}
	return "refreshed cost map " + p.Origin
}

// perM formats a per-token price per million tokens.
func perM(v *float64) string {
	if v == nil {
		return "-"
	}
	return "$" + strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.4f", *v*1e6), "0"), ".")
}

func writePrice(w io.Writer, p pricing.Price, from string) {
	if from == "" {
		from = originText(p)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if p.Key != "" {
		fmt.Fprintf(tw, "  entry\t%s\n", p.Key)
	}
	fmt.Fprintf(tw, "  from\t%s\n", from)
	if p.Source != "" {
		fmt.Fprintf(tw, "  source\t%s\n", p.Source)
	}
	if p.Mode != "" {
		fmt.Fprintf(tw, "  mode\t%s\n", p.Mode)
	}
	fmt.Fprintf(tw, "  per 1M tokens\tinput %s, output %s\n", perM(p.InputCostPerToken), perM(p.OutputCostPerToken))
	cr, cw := p.CacheReadInputTokenCost, p.CacheCreationInputTokenCost
	fmt.Fprintf(tw, "  cache\tread %s, write %s, 1-hour write %s (an unset cache price bills as input)\n",
		perM(cr), perM(cw), perM(p.CacheCreationInputTokenCostAbove1hr))
	reasoning := "as output"
	if p.OutputCostPerReasoningToken != nil {
		reasoning = perM(p.OutputCostPerReasoningToken)
	}
	fmt.Fprintf(tw, "  reasoning\t%s\n", reasoning)
	for _, t := range p.Tiers {
		fmt.Fprintf(tw, "  prompt over %d\tinput %s, output %s, cache read %s, write %s (the whole request)\n",
			t.Above, perM(t.InputCostPerToken), perM(t.OutputCostPerToken), perM(t.CacheReadInputTokenCost), perM(t.CacheCreationInputTokenCost))
	}
	ctx, out := "-", "-"
	if c, o := p.Limits(); c > 0 || o > 0 {
		if c > 0 {
			ctx = fmt.Sprint(c)
		}
		if o > 0 {
			out = fmt.Sprint(o)
		}
	}
	fmt.Fprintf(tw, "  context\t%s tokens, max output %s\n", ctx, out)
	tw.Flush()
	fmt.Fprintln(w)
}

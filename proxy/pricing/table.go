package pricing

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
)

//go:embed prices.json
var pricesJSON []byte

type priceTable struct {
	byKey map[string]Price
	// bySuffix finds "gemini/gemini-2.5-pro" from "gemini-2.5-pro" (for vertex_ai and callers that
	// give no provider).
	bySuffix map[string]string
}

var table = sync.OnceValue(func() *priceTable {
	t, err := parseTable(pricesJSON)
	if err != nil {
		// The table is compiled in and tested; a broken one is a build defect.
		panic("pricing: embedded prices.json: " + err.Error())
	}
	return t
})

func parseTable(data []byte) (*priceTable, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var raw map[string]map[string]any
	if err := dec.Decode(&raw); err != nil {
		return nil, err
	}
	t := &priceTable{byKey: map[string]Price{}, bySuffix: map[string]string{}}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		var p Price
		fields := make([]string, 0, len(raw[k]))
		for f := range raw[k] {
			fields = append(fields, f)
		}
		sort.Strings(fields)
		for _, f := range fields {
			if err := p.set(f, raw[k][f]); err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
		}
		p.Key = k
		t.byKey[k] = p
		if i := strings.Index(k, "/"); i > 0 {
			if _, dup := t.bySuffix[k[i+1:]]; !dup {
				t.bySuffix[k[i+1:]] = k
			}
		}
	}
	return t, nil
}

// Models lists the table's keys, sorted.
func Models() []string {
	t := table()
	out := make([]string, 0, len(t.byKey))
	for k := range t.byKey {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var (
	// dateSuffixRE matches snapshot dates: claude-sonnet-4-5-20250929, gpt-4o-2024-08-06,
	// claude-3-5-sonnet-v2@20241022 (Vertex), and the -latest alias.
	dateSuffixRE = regexp.MustCompile(`(-[0-9]{8}|-[0-9]{4}-[0-9]{2}-[0-9]{2}|@[0-9]{8}|-latest)$`)
	// bedrockVersionRE matches Bedrock's model version: -v1:0, -v1, -v2:0.
	bedrockVersionRE = regexp.MustCompile(`-v[0-9]+(:[0-9]+)?$`)
)

// crossRegion are Bedrock inference-profile prefixes (us.anthropic..., global.anthropic...).
var crossRegion = map[string]bool{"us": true, "eu": true, "apac": true, "jp": true, "au": true, "ca": true, "us-gov": true, "global": true}

// Lookup finds the price of model as served by provider (a LiteLLM provider name such as
// "openai", "anthropic", "gemini", "vertex_ai", "bedrock"; may be ""). It tries, in order:
// provider/model and model; the last path segment (bedrock/converse/us.anthropic...,
// inference-profile ARNs); then each with the snapshot date or -latest removed
// (claude-sonnet-4-5-20250929 → claude-sonnet-4-5), the Bedrock cross-region prefix removed
// (us.anthropic.X → anthropic.X), and a Bedrock Claude id mapped to Anthropic's
// (anthropic.claude-opus-4-7-v1 → claude-opus-4-7, Bedrock's global price being Anthropic's); and
// finally a provider-prefixed entry by its bare name (gemini-2.5-pro → gemini/gemini-2.5-pro).
// An exact entry always wins, so regional Bedrock ids keep their own (higher) prices.
func Lookup(provider, model string) (Price, bool) {
	t := table()
	provider = strings.ToLower(strings.TrimSpace(provider))
	for _, f := range forms(model) {
		if provider != "" {
			if p, ok := t.byKey[provider+"/"+f]; ok {
				return p.clone(), true
			}
		}
		if p, ok := t.byKey[f]; ok {
			return p.clone(), true
		}
	}
	for _, f := range forms(model) {
		if k, ok := t.bySuffix[f]; ok {
			return t.byKey[k].clone(), true
		}
	}
	return Price{}, false
}

// forms are the names model may be listed under, most specific first.
func forms(model string) []string {
	m := strings.TrimSpace(model)
	if m == "" {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	bases := []string{m}
	if i := strings.LastIndex(m, "/"); i >= 0 && i < len(m)-1 {
		bases = append(bases, m[i+1:])
	}
	// Vertex AI names versions after an "@": claude-sonnet-4-5@20250929.
	for _, b := range bases {
		if i := strings.IndexByte(b, '@'); i > 0 {
			bases = append(bases, b[:i])
		}
	}
	for _, b := range bases {
		add(b)
	}
	for _, b := range bases {
		add(dateSuffixRE.ReplaceAllString(b, ""))
		nr := b
		if i := strings.Index(b, "."); i > 0 && crossRegion[b[:i]] {
			nr = b[i+1:]
			add(nr)
			add(dateSuffixRE.ReplaceAllString(nr, ""))
		}
		if rest, ok := strings.CutPrefix(nr, "anthropic."); ok {
			rest = bedrockVersionRE.ReplaceAllString(rest, "")
			add(rest)
			add(dateSuffixRE.ReplaceAllString(rest, ""))
		}
	}
	return out
}

// Info returns a model's context window (max_input_tokens, else max_tokens) and maximum output
// (max_output_tokens, else max_tokens). ok is false when the model is unknown or lacks either.
func Info(provider, model string) (contextWindow, maxOutput int, ok bool) {
	p, found := Lookup(provider, model)
	if !found {
		return 0, 0, false
	}
	contextWindow, maxOutput = p.limits()
	return contextWindow, maxOutput, contextWindow > 0 && maxOutput > 0
}

func (p Price) limits() (contextWindow, maxOutput int) {
	switch {
	case p.MaxInputTokens != nil:
		contextWindow = *p.MaxInputTokens
	case p.MaxTokens != nil:
		contextWindow = *p.MaxTokens
	}
	switch {
	case p.MaxOutputTokens != nil:
		maxOutput = *p.MaxOutputTokens
	case p.MaxTokens != nil:
		maxOutput = *p.MaxTokens
	}
	return contextWindow, maxOutput
}

package gemini

import (
	"bytes"
	"encoding/json"

	"github.com/clawgate/clawgate/proxy/internal/wire"
)

// effortBudgets maps reasoning_effort to a Gemini 2.5 thinking budget (LiteLLM's figures).
var effortBudgets = map[string]int{
	"minimal": 0,
	"low":     1024,
	"medium":  2048,
	"high":    4096,
	"xhigh":   8192,
	"max":     16384,
}

// minProBudget is the smallest budget Gemini 2.5 Pro takes: it cannot think less, or not at all.
const minProBudget = 128

// generation fills GenerationConfig from the sampling, output and reasoning parameters.
func (t *translator) generation(in *chatRequest) error {
	g := &GenerationConfig{Temperature: in.Temperature, TopP: in.TopP, TopK: in.TopK, Seed: in.Seed}

	switch {
	case in.MaxCompletionTokens != nil:
		g.MaxOutputTokens = in.MaxCompletionTokens
	case in.MaxTokens != nil:
		g.MaxOutputTokens = in.MaxTokens
	}
	if g.MaxOutputTokens != nil && *g.MaxOutputTokens < 1 {
		return badRequest("max_tokens", "max_tokens must be at least 1, got %d", *g.MaxOutputTokens)
	}
	if in.N != nil && *in.N != 1 {
		// candidateCount exists, but the gateway translates and bills one choice.
		return badRequest("n", "n=%d is not supported for Gemini models; ask for one choice", *in.N)
	}
	stop, err := stopSequences(in.Stop)
	if err != nil {
		return err
	}
	g.StopSequences = stop
	if err := responseFormat(in.ResponseFormat, g); err != nil {
		return err
	}
	if g.ThinkingConfig, err = t.thinking(in); err != nil {
		return err
	}
	if g.Temperature != nil || g.TopP != nil || g.TopK != nil || g.Seed != nil || g.MaxOutputTokens != nil ||
		len(g.StopSequences) > 0 || g.ResponseMimeType != "" || g.ThinkingConfig != nil {
		t.out.GenerationConfig = g
	}
	return nil
}

func stopSequences(raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if wire.IsNull(raw) {
		return nil, nil
	}
	var list []string
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, badRequest("stop", "stop: %v", err)
		}
		list = []string{s}
	} else if err := json.Unmarshal(raw, &list); err != nil {
		return nil, badRequest("stop", "stop must be a string or an array of strings")
	}
	var out []string
	for _, s := range list {
		if s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

// responseFormat maps json_object to JSON output and json_schema to JSON output with the schema
// reduced to what Gemini accepts (and its property order kept through propertyOrdering).
func responseFormat(raw json.RawMessage, g *GenerationConfig) error {
	if wire.IsNull(raw) {
		return nil
	}
	var rf struct {
		Type       string `json:"type"`
		JSONSchema *struct {
			Schema json.RawMessage `json:"schema"`
		} `json:"json_schema"`
	}
	if err := json.Unmarshal(raw, &rf); err != nil {
		return badRequest("response_format", "response_format: %v", err)
	}
	switch rf.Type {
	case "", "text":
	case "json_object":
		g.ResponseMimeType = "application/json"
	case "json_schema":
		g.ResponseMimeType = "application/json"
		if rf.JSONSchema != nil && !wire.IsNull(rf.JSONSchema.Schema) {
			schema, err := reduceSchema(rf.JSONSchema.Schema, true)
			if err != nil {
				return badRequest("response_format", "response_format.json_schema.schema: %v", err)
			}
			g.ResponseSchema = schema
		}
	default:
		return badRequest("response_format", "response_format type %q is not supported (use text, json_object or json_schema)", rf.Type)
	}
	return nil
}

// thinking maps reasoning_effort (or Anthropic's thinking parameter, which LiteLLM also accepts)
// to thinkingConfig: a level for Gemini 3, a budget for Gemini 2.5 and unversioned aliases such
// as gemini-flash-latest, nothing for models that do not think (1.5, 2.0, Gemma).
func (t *translator) thinking(in *chatRequest) (*ThinkingConfig, error) {
	f := t.fam
	if !wire.IsNull(in.Thinking) {
		var th struct {
			Type         string `json:"type"`
			BudgetTokens int    `json:"budget_tokens"`
		}
		if err := json.Unmarshal(in.Thinking, &th); err != nil {
			return nil, badRequest("thinking", "thinking: %v", err)
		}
		if !f.thinks() {
			return nil, nil
		}
		switch th.Type {
		case "enabled":
			return &ThinkingConfig{IncludeThoughts: true, ThinkingBudget: ptr(th.BudgetTokens)}, nil
		case "disabled":
			return f.budget("none"), nil
		}
		return nil, badRequest("thinking", "thinking.type %q is not enabled or disabled", th.Type)
	}
	effort := in.ReasoningEffort
	if effort == "" {
		return nil, nil
	}
	if _, ok := effortBudgets[effort]; !ok && effort != "none" {
		return nil, badRequest("reasoning_effort", "unknown reasoning_effort %q (use none, minimal, low, medium or high)", effort)
	}
	if !f.thinks() {
		return nil, nil
	}
	if f.major >= 3 {
		return f.level(effort), nil
	}
	return f.budget(effort), nil
}

// thinks reports whether the model takes a thinkingConfig: Gemini 2.5 and later, and Gemini ids
// without a version (aliases that point at current, thinking models).
func (f family) thinks() bool {
	return f.gemini && (f.major == 0 || f.major > 2 || (f.major == 2 && f.minor >= 5))
}

// budget is the Gemini 2.5 form. Flash models turn thinking off with 0; Pro cannot, so "none"
// gives Pro its smallest budget without thought summaries.
func (f family) budget(effort string) *ThinkingConfig {
	b, ok := effortBudgets[effort]
	if !ok { // "none"
		if f.pro {
			return &ThinkingConfig{ThinkingBudget: ptr(minProBudget)}
		}
		return &ThinkingConfig{ThinkingBudget: ptr(0)}
	}
	if b == 0 && f.pro {
		b = minProBudget
	}
	return &ThinkingConfig{IncludeThoughts: b > 0, ThinkingBudget: ptr(b)}
}

// level is the Gemini 3 form. Thinking cannot be turned off there: "none" is the lowest level
// without thought summaries. Flash models take minimal, low, medium and high; the others low and
// high only.
func (f family) level(effort string) *ThinkingConfig {
	var lvl string
	switch effort {
	case "none", "minimal":
		lvl = "low"
		if f.flash {
			lvl = "minimal"
		}
	case "low":
		lvl = "low"
	case "medium":
		lvl = "high"
		if f.flash {
			lvl = "medium"
		}
	default: // high, xhigh, max
		lvl = "high"
	}
	return &ThinkingConfig{IncludeThoughts: effort != "none", ThinkingLevel: lvl}
}

func ptr[T any](v T) *T { return &v }

package anthropic

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/clawgate/clawgate/proxy/internal/wire"
)

// chatTool is an OpenAI tool definition; cache_control beside "function" is LiteLLM's extension.
type chatTool struct {
	Type     string `json:"type"`
	Function *struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Parameters  json.RawMessage `json:"parameters"`
	} `json:"function"`
	CacheControl json.RawMessage `json:"cache_control"`
}

// emptySchema is what a function without parameters takes; Anthropic requires input_schema.
var emptySchema = json.RawMessage(`{"type":"object","properties":{}}`)

func (t *translator) tools(raw []json.RawMessage, choice json.RawMessage, parallel *bool) error {
	for i, r := range raw {
		where := fmt.Sprintf("tools[%d]", i)
		var ct chatTool
		if err := json.Unmarshal(r, &ct); err != nil {
			return badRequest("tools", "%s: %v", where, err)
		}
		if ct.Type != "function" && ct.Type != "" {
			// One of Anthropic's own tools (web search, bash, ...) sent natively: pass it on.
			t.out.Tools = append(t.out.Tools, Tool{Raw: r})
			continue
		}
		if ct.Function == nil || ct.Function.Name == "" {
			return badRequest("tools", "%s: a function tool needs function.name", where)
		}
		cc, err := t.cacheControl(ct.CacheControl, where)
		if err != nil {
			return err
		}
		schema := ct.Function.Parameters
		if wire.IsNull(schema) {
			schema = emptySchema
		}
		t.out.Tools = append(t.out.Tools, Tool{
			Name: ct.Function.Name, Description: ct.Function.Description,
			InputSchema: schema, CacheControl: cc,
		})
	}
	tc, err := toolChoice(choice)
	if err != nil {
		return err
	}
	if parallel != nil && !*parallel && len(t.out.Tools) > 0 {
		if tc == nil {
			tc = &ToolChoice{Type: "auto"}
		}
		if tc.Type != "none" {
			tc.DisableParallelToolUse = true
		}
	}
	if len(t.out.Tools) == 0 {
		tc = nil // Anthropic rejects a tool_choice without tools
	}
	t.out.ToolChoice = tc
	return nil
}

func toolChoice(raw json.RawMessage) (*ToolChoice, error) {
	raw = bytes.TrimSpace(raw)
	if wire.IsNull(raw) {
		return nil, nil
	}
	if raw[0] == '"' {
		var s string
		_ = json.Unmarshal(raw, &s)
		switch s {
		case "auto":
			return &ToolChoice{Type: "auto"}, nil
		case "required", "any":
			return &ToolChoice{Type: "any"}, nil
		case "none":
			return &ToolChoice{Type: "none"}, nil
		}
		return nil, badRequest("tool_choice", "tool_choice %q is not one of auto, required, none", s)
	}
	var o struct {
		Type     string `json:"type"`
		Name     string `json:"name"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if err := json.Unmarshal(raw, &o); err != nil {
		return nil, badRequest("tool_choice", "tool_choice: %v", err)
	}
	switch {
	case o.Type == "function" && o.Function.Name != "":
		return &ToolChoice{Type: "tool", Name: o.Function.Name}, nil
	case o.Type == "tool" && o.Name != "":
		return &ToolChoice{Type: "tool", Name: o.Name}, nil
	case o.Type == "auto", o.Type == "any", o.Type == "none":
		return &ToolChoice{Type: o.Type}, nil
	}
	return nil, badRequest("tool_choice", "tool_choice must name a function: {\"type\":\"function\",\"function\":{\"name\":...}}")
}

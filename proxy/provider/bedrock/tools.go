package bedrock

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

// emptySchema is the input schema of a function without parameters, and of the stand-in specs
// for tools the history uses but the request does not define.
var emptySchema = json.RawMessage(`{"type":"object","properties":{}}`)

// choice is tool_choice reduced to what Converse can say.
type choice struct {
	kind string // "", "auto", "any", "none", "tool"
	name string
}

// tools fills toolConfig. Converse has no "none": the tools are dropped instead. And Bedrock
// rejects a request whose history holds toolUse or toolResult blocks without a toolConfig
// ("The toolConfig field must be defined when using toolUse and toolResult content blocks"), so
// when the turn offers no tools, the tools the history calls are declared: with their
// definitions when the request has them, otherwise with an empty schema.
func (t *translator) tools(raw []json.RawMessage, rawChoice json.RawMessage) error {
	var tools []Tool
	defs := make(map[string]*ToolSpec)
	for i, r := range raw {
		where := fmt.Sprintf("tools[%d]", i)
		var ct chatTool
		if err := json.Unmarshal(r, &ct); err != nil {
			return badRequest("tools", "%s: %v", where, err)
		}
		if ct.Type != "function" && ct.Type != "" {
			return badRequest("tools", "%s: tool type %q is not supported by Bedrock Converse; only functions are", where, ct.Type)
		}
		if ct.Function == nil || ct.Function.Name == "" {
			return badRequest("tools", "%s: a function tool needs function.name", where)
		}
		schema := ct.Function.Parameters
		if wire.IsNull(schema) {
			schema = emptySchema
		}
		spec := &ToolSpec{Name: ct.Function.Name, Description: ct.Function.Description, InputSchema: InputSchema{JSON: compact(schema)}}
		defs[spec.Name] = spec
		tools = append(tools, Tool{ToolSpec: spec})
		if !wire.IsNull(ct.CacheControl) {
			tools = append(tools, Tool{CachePoint: defaultCachePoint})
		}
	}
	c, err := toolChoice(rawChoice)
	if err != nil {
		return err
	}
	if c.kind == "none" {
		tools = nil
	}
	if len(tools) > 0 {
		cfg := &ToolConfig{Tools: tools}
		switch c.kind {
		case "auto":
			// auto is Converse's default; only the models that know toolChoice are told so.
			if supportsToolChoice(t.model) {
				cfg.ToolChoice = &ToolChoice{Auto: &struct{}{}}
			}
		case "any":
			cfg.ToolChoice = &ToolChoice{Any: &struct{}{}}
		case "tool":
			cfg.ToolChoice = &ToolChoice{Tool: &NamedChoice{Name: c.name}}
		}
		t.out.ToolConfig = cfg
		return nil
	}
	if !t.toolBlocks {
		return nil
	}
	cfg := &ToolConfig{Tools: []Tool{}}
	for _, name := range t.historyTools {
		spec := defs[name]
		if spec == nil {
			spec = &ToolSpec{Name: name, InputSchema: InputSchema{JSON: emptySchema}}
		}
		cfg.Tools = append(cfg.Tools, Tool{ToolSpec: spec})
	}
	if len(cfg.Tools) == 0 {
		// Tool results whose calls are not in the history: any declared tool will do.
		cfg.Tools = append(cfg.Tools, Tool{ToolSpec: &ToolSpec{Name: "placeholder_tool", InputSchema: InputSchema{JSON: emptySchema}}})
	}
	t.out.ToolConfig = cfg
	return nil
}

func toolChoice(raw json.RawMessage) (choice, error) {
	raw = bytes.TrimSpace(raw)
	if wire.IsNull(raw) {
		return choice{}, nil
	}
	if raw[0] == '"' {
		var s string
		_ = json.Unmarshal(raw, &s)
		switch s {
		case "auto":
			return choice{kind: "auto"}, nil
		case "required", "any":
			return choice{kind: "any"}, nil
		case "none":
			return choice{kind: "none"}, nil
		}
		return choice{}, badRequest("tool_choice", "tool_choice %q is not one of auto, required, none", s)
	}
	var o struct {
		Type     string `json:"type"`
		Name     string `json:"name"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if err := json.Unmarshal(raw, &o); err != nil {
		return choice{}, badRequest("tool_choice", "tool_choice: %v", err)
	}
	switch {
	case o.Type == "function" && o.Function.Name != "":
		return choice{kind: "tool", name: o.Function.Name}, nil
	case o.Type == "tool" && o.Name != "":
		return choice{kind: "tool", name: o.Name}, nil
	case o.Type == "auto", o.Type == "any", o.Type == "none":
		return choice{kind: o.Type}, nil
	}
	return choice{}, badRequest("tool_choice", "tool_choice must name a function: {\"type\":\"function\",\"function\":{\"name\":...}}")
}

// compact returns raw without insignificant whitespace, or raw itself if it is not valid JSON
// (Bedrock then names the problem).
func compact(raw json.RawMessage) json.RawMessage {
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return raw
	}
	return buf.Bytes()
}

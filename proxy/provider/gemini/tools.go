package gemini

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/clawgate/clawgate/proxy/internal/wire"
)

// chatTool is an OpenAI tool definition.
type chatTool struct {
	Type     string `json:"type"`
	Function *struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Parameters  json.RawMessage `json:"parameters"`
	} `json:"function"`
}

// tools fills Tools and ToolConfig. OpenAI functions become one tool of functionDeclarations;
// a tool written in Gemini's own form ({"googleSearch":{}}, {"codeExecution":{}}) is passed on.
func (t *translator) tools(raw []json.RawMessage, choice json.RawMessage) error {
	var decls []FunctionDeclaration
	var native []Tool
	for i, r := range raw {
		where := fmt.Sprintf("tools[%d]", i)
		var ct chatTool
		if err := json.Unmarshal(r, &ct); err != nil {
			return badRequest("tools", "%s: %v", where, err)
		}
		if ct.Type == "" && ct.Function == nil {
			var keys map[string]json.RawMessage
			if json.Unmarshal(r, &keys) == nil && len(keys) > 0 {
				native = append(native, Tool{Raw: r})
				continue
			}
		}
		if ct.Type != "function" && ct.Type != "" {
			return badRequest("tools", "%s: tool type %q is not supported for Gemini models", where, ct.Type)
		}
		if ct.Function == nil || ct.Function.Name == "" {
			return badRequest("tools", "%s: a function tool needs function.name", where)
		}
		params, err := reduceParameters(ct.Function.Parameters)
		if err != nil {
			return badRequest("tools", "%s.function.parameters: %v", where, err)
		}
		decls = append(decls, FunctionDeclaration{
			Name: ct.Function.Name, Description: ct.Function.Description, Parameters: params,
		})
	}
	if len(decls) > 0 {
		t.out.Tools = append(t.out.Tools, Tool{FunctionDeclarations: decls})
	}
	t.out.Tools = append(t.out.Tools, native...)

	cfg, err := functionCalling(choice)
	if err != nil {
		return err
	}
	if cfg == nil || len(decls) == 0 {
		return nil // a function calling mode means nothing without functions
	}
	for _, name := range cfg.AllowedFunctionNames {
		if !slices.ContainsFunc(decls, func(d FunctionDeclaration) bool { return d.Name == name }) {
			return badRequest("tool_choice", "tool_choice names function %q, which is not among the tools", name)
		}
	}
	t.out.ToolConfig = &ToolConfig{FunctionCallingConfig: cfg}
	return nil
}

// functionCalling maps tool_choice: auto AUTO, none NONE, required ANY, a named function ANY
// restricted to that function.
func functionCalling(raw json.RawMessage) (*FunctionCallingConfig, error) {
	raw = bytes.TrimSpace(raw)
	if wire.IsNull(raw) {
		return nil, nil
	}
	if raw[0] == '"' {
		var s string
		_ = json.Unmarshal(raw, &s)
		switch s {
		case "auto":
			return &FunctionCallingConfig{Mode: "AUTO"}, nil
		case "none":
			return &FunctionCallingConfig{Mode: "NONE"}, nil
		case "required", "any":
			return &FunctionCallingConfig{Mode: "ANY"}, nil
		}
		return nil, badRequest("tool_choice", "tool_choice %q is not one of auto, required, none", s)
	}
	var o struct {
		Type     string `json:"type"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if err := json.Unmarshal(raw, &o); err != nil {
		return nil, badRequest("tool_choice", "tool_choice: %v", err)
	}
	if o.Type == "function" && o.Function.Name != "" {
		return &FunctionCallingConfig{Mode: "ANY", AllowedFunctionNames: []string{o.Function.Name}}, nil
	}
	return nil, badRequest("tool_choice", "tool_choice must name a function: {\"type\":\"function\",\"function\":{\"name\":...}}")
}

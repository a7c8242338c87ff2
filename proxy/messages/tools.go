package messages

import (
	"bytes"
	"encoding/json"
	"hash/fnv"
	"strconv"
)

// tool is an Anthropic tool definition. Type is empty or "custom" for a client tool; anything
// else (web_search_20250305, bash_20250124, ...) is one of Anthropic's own tools.
type tool struct {
	Type         string          `json:"type"`
	Name         string          `json:"name"`
	Description  string          `json:"description"`
	InputSchema  json.RawMessage `json:"input_schema"`
	CacheControl json.RawMessage `json:"cache_control"`
}

type chatTool struct {
	Type     string       `json:"type"`
	Function chatFunction `json:"function"`
	// CacheControl beside "function" is LiteLLM's convention for caching tool definitions.
	CacheControl json.RawMessage `json:"cache_control,omitempty"`
}

type chatFunction struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters"`
}

type namedChoice struct {
	Type     string `json:"type"`
	Function struct {
		Name string `json:"name"`
	} `json:"function"`
}

// emptySchema is what a tool without input_schema takes.
var emptySchema = json.RawMessage(`{"type":"object","properties":{}}`)

// tools translates tools and tool_choice. Anthropic's own tools have no schema another model
// could call, so they are left out rather than failing the whole request.
func (t *translator) tools(out *chatRequest, raw []json.RawMessage, choice json.RawMessage) error {
	for i, r := range raw {
		var tl tool
		if err := json.Unmarshal(r, &tl); err != nil {
			return badRequest("tools.%d: %v", i, err)
		}
		if tl.Type != "" && tl.Type != "custom" {
			continue
		}
		if tl.Name == "" {
			return badRequest("tools.%d.name: Field required", i)
		}
		schema := emptySchema
		if !isNull(tl.InputSchema) {
			schema = compact(tl.InputSchema)
		}
		out.Tools = append(out.Tools, chatTool{
			Type:         "function",
			Function:     chatFunction{Name: t.name(tl.Name), Description: tl.Description, Parameters: schema},
			CacheControl: t.cache(tl.CacheControl),
		})
	}
	if isNull(choice) {
		return nil
	}
	var tc struct {
		Type                   string `json:"type"`
		Name                   string `json:"name"`
		DisableParallelToolUse bool   `json:"disable_parallel_tool_use"`
	}
	if err := json.Unmarshal(choice, &tc); err != nil {
		return badRequest("tool_choice: must be an object like {\"type\":\"auto\"}")
	}
	if len(out.Tools) == 0 {
		if tc.Type == "tool" || tc.Type == "any" {
			return badRequest("tool_choice: %q needs tools this route can offer (Anthropic's own tools are not available here)", tc.Type)
		}
		return nil // OpenAI rejects tool_choice and parallel_tool_calls without tools
	}
	switch tc.Type {
	case "auto":
		out.ToolChoice = "auto"
	case "any":
		out.ToolChoice = "required"
	case "none":
		out.ToolChoice = "none"
	case "tool":
		if tc.Name == "" {
			return badRequest("tool_choice.name: Field required")
		}
		name := t.name(tc.Name)
		found := false
		for _, ct := range out.Tools {
			found = found || ct.Function.Name == name
		}
		if !found {
			return badRequest("tool_choice.name: %q is not one of the tools this route can offer", tc.Name)
		}
		nc := namedChoice{Type: "function"}
		nc.Function.Name = name
		out.ToolChoice = nc
	default:
		return badRequest("tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none', got %q", tc.Type)
	}
	if tc.DisableParallelToolUse && tc.Type != "none" {
		f := false
		out.ParallelToolCalls = &f
	}
	return nil
}

// maxName is the longest function name OpenAI accepts; Anthropic allows longer ones (MCP tools
// named mcp__server__tool often are).
const maxName = 64

// name returns the tool name to send upstream, shortened past maxName to a prefix and a hash
// (the same every time, so history, tools and tool_choice agree), and remembers the original.
func (t *translator) name(n string) string {
	if len(n) <= maxName {
		return n
	}
	h := fnv.New64a()
	h.Write([]byte(n))
	sum := strconv.FormatUint(h.Sum64(), 36)
	short := n[:maxName-len(sum)-1] + "_" + sum
	if t.names == nil {
		t.names = make(map[string]string)
	}
	t.names[short] = n
	return short
}

// original maps a tool name the upstream used back to the client's.
func (i *Info) original(n string) string {
	if o, ok := i.names[n]; ok {
		return o
	}
	return n
}

// toolInput parses OpenAI's arguments (a JSON string, or the object itself from some servers)
// into the object Anthropic's input needs. Arguments that are not an object give {}: a model's
// broken JSON cannot be repaired, and the client's schema check then tells the model.
func toolInput(raw json.RawMessage) json.RawMessage {
	raw = bytes.TrimSpace(raw)
	if isNull(raw) {
		return json.RawMessage("{}")
	}
	args := []byte(raw)
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return json.RawMessage("{}")
		}
		args = bytes.TrimSpace([]byte(s))
	}
	var buf bytes.Buffer
	if len(args) == 0 || args[0] != '{' || json.Compact(&buf, args) != nil {
		return json.RawMessage("{}")
	}
	return buf.Bytes()
}

// Package promptcache places Anthropic prompt-cache breakpoints (cache_control) in OpenAI chat
// requests bound for Claude, so that clients which send none (OpenClaw on openai-completions) stop
// paying the full input price for the same long system prompt and tools on every call.
//
// Apply is a pure function over the OpenAI request body; the Anthropic and Bedrock translators
// already turn cache_control into cache_control blocks and Converse cachePoint blocks. Wrap is the
// thin adapter that applies a deployment's Plan before its provider translates the request.
package promptcache

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// MaxBreakpoints is Anthropic's limit of cache_control blocks per request (Bedrock's of cache
// points too); one more is a 400.
const MaxBreakpoints = 4

// Plan says where a deployment's requests get breakpoints.
type Plan struct {
	// Off turns injection off (litellm_params.prompt_caching: false); client breakpoints still pass.
	Off bool
	// Points are litellm_params.cache_control_injection_points. When set they replace the default.
	Points []Point
}

// Point is one of LiteLLM's cache_control_injection_points: location "message" with a role
// (every message of that role) or an index (one message; negative counts from the end), or
// location "tool_config" (the last tool, which closes the tool list).
type Point struct {
	Location string
	Role     string
	Index    *int
	// Control is the cache_control object to write; {"type":"ephemeral"} when the point sets none.
	Control json.RawMessage
}

// ephemeral is the default cache_control: Anthropic's only type, with its default 5-minute TTL.
var ephemeral = json.RawMessage(`{"type":"ephemeral"}`)

// FromParams reads a deployment's litellm_params extras. Values come from YAML, so a number may
// be an int or a float, and an index may be a numeric string (LiteLLM accepts "-1").
func FromParams(extra map[string]any) (Plan, error) {
	var p Plan
	switch v := extra["prompt_caching"].(type) {
	case nil:
	case bool:
		p.Off = !v
	case string:
		on, err := strconv.ParseBool(v)
		if err != nil {
			return Plan{}, fmt.Errorf("litellm_params.prompt_caching must be true or false, got %q", v)
		}
		p.Off = !on
	default:
		return Plan{}, fmt.Errorf("litellm_params.prompt_caching must be true or false, got %v", v)
	}
	raw, ok := extra["cache_control_injection_points"]
	if !ok || raw == nil {
		return p, nil
	}
	list, ok := raw.([]any)
	if !ok {
		return Plan{}, fmt.Errorf("litellm_params.cache_control_injection_points must be a list like [{location: message, role: system}]")
	}
	for i, item := range list {
		pt, err := point(item)
		if err != nil {
			return Plan{}, fmt.Errorf("litellm_params.cache_control_injection_points[%d]: %w", i, err)
		}
		p.Points = append(p.Points, pt)
	}
	return p, nil
}

func point(item any) (Point, error) {
	m, ok := item.(map[string]any)
	if !ok {
		return Point{}, fmt.Errorf("must be a mapping like {location: message, role: system}")
	}
	var pt Point
	pt.Location, _ = m["location"].(string)
	switch pt.Location {
	case "message":
	case "tool_config", "tools":
		pt.Location = "tool_config"
	default:
		return Point{}, fmt.Errorf("location %v is not one of message, tool_config", m["location"])
	}
	if r, set := m["role"]; set && r != nil {
		s, ok := r.(string)
		if !ok || s == "" {
			return Point{}, fmt.Errorf("role must be a role name such as system or user")
		}
		pt.Role = s
	}
	if v, set := m["index"]; set && v != nil {
		n, err := index(v)
		if err != nil {
			return Point{}, err
		}
		pt.Index = &n
	}
	if pt.Location == "message" && pt.Role == "" && pt.Index == nil {
		return Point{}, fmt.Errorf("a message point needs a role or an index")
	}
	pt.Control = ephemeral
	if c, set := m["control"]; set && c != nil {
		cm, ok := c.(map[string]any)
		if !ok {
			return Point{}, fmt.Errorf("control must be a mapping like {type: ephemeral}")
		}
		b, err := json.Marshal(cm)
		if err != nil {
			return Point{}, fmt.Errorf("control: %w", err)
		}
		pt.Control = b
	}
	return pt, nil
}

func index(v any) (int, error) {
	switch n := v.(type) {
	case int:
		return n, nil
	case int64:
		return int(n), nil
	case float64:
		if n == float64(int(n)) {
			return int(n), nil
		}
	case string:
		if i, err := strconv.Atoi(n); err == nil {
			return i, nil
		}
	}
	return 0, fmt.Errorf("index must be a whole number (negative counts from the end), got %v", v)
}

package promptcache

import (
	"reflect"
	"strings"
	"testing"
)

func TestFromParams(t *testing.T) {
	one := 1
	minus := -1
	cases := []struct {
		name  string
		extra map[string]any
		want  Plan
		err   string
	}{
		{"nothing set: default on", nil, Plan{}, ""},
		{"turned off", map[string]any{"prompt_caching": false}, Plan{Off: true}, ""},
		{"turned off as a string", map[string]any{"prompt_caching": "false"}, Plan{Off: true}, ""},
		{"on", map[string]any{"prompt_caching": true}, Plan{}, ""},
		{"not a bool", map[string]any{"prompt_caching": 3}, Plan{}, "prompt_caching"},
		{"system role", map[string]any{"cache_control_injection_points": []any{map[string]any{"location": "message", "role": "system"}}},
			Plan{Points: []Point{{Location: "message", Role: "system", Control: ephemeral}}}, ""},
		{"index as int and as string, with a control", map[string]any{"cache_control_injection_points": []any{
			map[string]any{"location": "message", "index": 1},
			map[string]any{"location": "message", "index": "-1", "control": map[string]any{"type": "ephemeral", "ttl": "1h"}},
			map[string]any{"location": "tool_config"},
		}}, Plan{Points: []Point{
			{Location: "message", Index: &one, Control: ephemeral},
			{Location: "message", Index: &minus, Control: []byte(`{"ttl":"1h","type":"ephemeral"}`)},
			{Location: "tool_config", Control: ephemeral},
		}}, ""},
		{"not a list", map[string]any{"cache_control_injection_points": "system"}, Plan{}, "must be a list"},
		{"unknown location", map[string]any{"cache_control_injection_points": []any{map[string]any{"location": "prompt"}}}, Plan{}, "[0]: location prompt"},
		{"message without target", map[string]any{"cache_control_injection_points": []any{map[string]any{"location": "message"}}}, Plan{}, "role or an index"},
		{"fractional index", map[string]any{"cache_control_injection_points": []any{map[string]any{"location": "message", "index": 1.5}}}, Plan{}, "whole number"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := FromParams(c.extra)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

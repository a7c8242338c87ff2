package claudeapi

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

func TestSplice(t *testing.T) {
	tests := []struct {
		name, in string
		edits    []Edit
		want     string
	}{
		{"replace keeps place and spacing", `{ "a" : 1 ,"model":"x",  "b":[1, 2] }`, []Edit{{"model", []byte(`"y"`)}}, `{ "a" : 1 ,"model":"y",  "b":[1, 2] }`},
		{"remove middle", `{"a":1, "model":"x", "b":2}`, []Edit{{Key: "model"}}, `{"a":1, "b":2}`},
		{"remove first", `{ "model":"x", "b":2}`, []Edit{{Key: "model"}}, `{ "b":2}`},
		{"remove last", `{"a":1,"model":"x" }`, []Edit{{Key: "model"}}, `{"a":1 }`},
		{"remove only", `{"model":"x"}`, []Edit{{Key: "model"}}, `{}`},
		{"remove absent", `{"a":1}`, []Edit{{Key: "model"}}, `{"a":1}`},
		{"add", `{"a":1}`, []Edit{{"v", []byte(`"z"`)}}, `{"a":1,"v":"z"}`},
		{"add to empty", `{ }`, []Edit{{"v", []byte(`1`)}}, `{ "v":1}`},
		{"duplicate keys all edited", `{"model":"a","x":1,"model":"b"}`, []Edit{{"model", []byte(`"y"`)}}, `{"model":"y","x":1,"model":"y"}`},
		{"remove and add", `{"model":"x","stream":true,"a":{"model":"inner"}}`,
			[]Edit{{Key: "model"}, {Key: "stream"}, {"anthropic_version", []byte(`"bedrock-2023-05-31"`)}},
			`{"a":{"model":"inner"},"anthropic_version":"bedrock-2023-05-31"}`},
		{"key text inside a string is not a key", `{"a":"\"model\":1","model":"x"}`, []Edit{{"model", []byte(`"y"`)}}, `{"a":"\"model\":1","model":"y"}`},
		{"escaped key", `{"mod\u0065l":"x"}`, []Edit{{"model", []byte(`"y"`)}}, `{"mod\u0065l":"y"}`},
		{"unicode kept", `{"a":"héllo <b>","model":"x"}`, []Edit{{"model", []byte(`"y"`)}}, `{"a":"héllo <b>","model":"y"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Splice([]byte(tt.in), tt.edits...)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if !json.Valid(got) {
				t.Errorf("invalid JSON %s", got)
			}
		})
	}
	for _, bad := range []string{``, `[1]`, `{"a":}`, `{"a":1} x`, `{"a":1`} {
		if _, err := Splice([]byte(bad), Edit{Key: "model"}); err == nil {
			t.Errorf("Splice(%q) accepted", bad)
		}
	}
}

// members decodes a body's top-level members as their raw bytes.
func membersOf(t *testing.T, b []byte) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return m
}

// TestEnvelopes: each platform's body is Claude Code's request byte for byte but for the members
// its envelope documents (model, stream, anthropic_version, anthropic_beta).
func TestEnvelopes(t *testing.T) {
	in, err := os.ReadFile("testdata/claude_code_request.json")
	if err != nil {
		t.Fatal(err)
	}
	got, err := ForAnthropic(in, "claude-sonnet-4-5-20250929")
	if err != nil {
		t.Fatal(err)
	}
	if want := bytes.Replace(in, []byte(`"model": "claude-sonnet-4-5"`), []byte(`"model": "claude-sonnet-4-5-20250929"`), 1); !bytes.Equal(got, want) {
		t.Errorf("anthropic body differs beyond the model:\n%s", got)
	}
	orig := membersOf(t, in)
	check := func(name string, body []byte, gone []string, added map[string]string) {
		t.Helper()
		m := membersOf(t, body)
		for k, v := range orig {
			if contains(gone, k) {
				if _, ok := m[k]; ok {
					t.Errorf("%s: %s still there", name, k)
				}
				continue
			}
			if !bytes.Equal(m[k], v) {
				t.Errorf("%s: %s changed: %s", name, k, m[k])
			}
		}
		for k, v := range added {
			if string(m[k]) != v {
				t.Errorf("%s: %s = %s, want %s", name, k, m[k], v)
			}
		}
		if len(m) != len(orig)-len(gone)+len(added) {
			t.Errorf("%s: %d members, want %d", name, len(m), len(orig)-len(gone)+len(added))
		}
	}
	v, err := ForVertex(in)
	if err != nil {
		t.Fatal(err)
	}
	check("vertex", v, []string{"model"}, map[string]string{"anthropic_version": `"vertex-2023-10-16"`})
	b, err := ForBedrock(in, []string{"interleaved-thinking-2025-05-14", "context-management-2025-06-27"})
	if err != nil {
		t.Fatal(err)
	}
	check("bedrock", b, []string{"model", "stream"}, map[string]string{"anthropic_version": `"bedrock-2023-05-31"`,
		"anthropic_beta": `["interleaved-thinking-2025-05-14","context-management-2025-06-27"]`})
	b, _ = ForBedrock([]byte(`{"model":"m","anthropic_version":"bedrock-2099-01-01","messages":[]}`), nil)
	if string(b) != `{"anthropic_version":"bedrock-2099-01-01","messages":[]}` {
		t.Errorf("a client's own anthropic_version must stay: %s", b)
	}
}

func FuzzSplice(f *testing.F) {
	f.Add([]byte(`{"model":"x","a":[1,{"model":2}]}`))
	f.Add([]byte(`{ }`))
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := Splice(b, Edit{Key: "stream"}, Edit{"model", []byte(`"m"`)})
		if err != nil {
			return
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatalf("Splice(%q) = %q: %v", b, out, err)
		}
		if string(m["model"]) != `"m"` {
			t.Fatalf("model %s in %q", m["model"], out)
		}
		if _, ok := m["stream"]; ok {
			t.Fatalf("stream kept in %q", out)
		}
	})
}

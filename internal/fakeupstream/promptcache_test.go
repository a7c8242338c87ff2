package fakeupstream

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// blk is a block of n bytes (n/4 tokens) whose content is named by id.
func blk(id string, n int, mark bool) block {
	return block{key: []byte(id + strings.Repeat(".", n-len(id))), mark: mark}
}

func TestPromptCacheCount(t *testing.T) {
	sys := blk("sys", 4400, true) // 1100 tokens: over Sonnet's minimum of 1024
	plainSys := sys
	plainSys.mark = false
	filler := func(n int) []block {
		var out []block
		for i := range n {
			out = append(out, blk("f"+string(rune('a'+i)), 8, false))
		}
		return out
	}
	steps := []struct {
		name   string
		model  string
		blocks []block
		want   cacheUsage
		err    string
	}{
		{"first call writes the system prompt", "claude-sonnet-4-5", []block{sys, blk("u1", 400, false)}, cacheUsage{input: 100, write: 1100}, ""},
		{"second call reads it", "claude-sonnet-4-5", []block{sys, blk("u1", 400, false)}, cacheUsage{input: 100, read: 1100}, ""},
		{"a growing conversation reads the prefix and writes the rest", "claude-sonnet-4-5",
			[]block{sys, blk("u1", 400, false), blk("a1", 400, false), blk("u2", 400, true)}, cacheUsage{read: 1100, write: 300}, ""},
		{"a marker moved off a cached block: found by looking back", "claude-sonnet-4-5",
			append(append([]block{plainSys}, filler(19)...), blk("end", 400, true)), cacheUsage{read: 1100, write: 38 + 100}, ""},
		{"more than 20 blocks back: not found", "claude-sonnet-4-5",
			append(append([]block{plainSys}, filler(21)...), blk("end2", 400, true)), cacheUsage{write: 1100 + 42 + 100}, ""},
		{"below the model's minimum: nothing cached", "claude-haiku-4-5", []block{blk("small", 8000, true)}, cacheUsage{input: 2000}, ""},
		{"five breakpoints: refused", "claude-sonnet-4-5",
			[]block{sys, blk("b", 8, true), blk("c", 8, true), blk("d", 8, true), blk("e", 8, true)}, cacheUsage{}, "maximum of 4"},
	}
	c := NewPromptCache()
	for _, s := range steps {
		got, err := c.count(s.model, s.blocks)
		if s.err != "" {
			if err == nil || !strings.Contains(err.Error(), s.err) {
				t.Errorf("%s: error %v, want %q", s.name, err, s.err)
			}
			continue
		}
		if err != nil || got != s.want {
			t.Errorf("%s: got %+v (%v), want %+v", s.name, got, err, s.want)
		}
	}
	if got := c.Breakpoints(); len(got) != len(steps) || got[0] != 1 || got[2] != 2 || got[6] != 5 {
		t.Errorf("breakpoints seen: %v", got)
	}
}

// TestPromptCacheBlocks checks that both wire formats list the same blocks, with markers where
// the request put them and without the markers in what is cached.
func TestPromptCacheBlocks(t *testing.T) {
	anth := `{"tools":[{"name":"read","input_schema":{},"cache_control":{"type":"ephemeral"}}],
		"system":[{"type":"text","text":"rules","cache_control":{"type":"ephemeral"}}],
		"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":[{"type":"text","text":"yo"}]},
			{"role":"user","content":[{"type":"text","text":"more","cache_control":{"type":"ephemeral"}}]}]}`
	conv := `{"toolConfig":{"tools":[{"toolSpec":{"name":"read"}},{"cachePoint":{"type":"default"}}]},
		"system":[{"text":"rules"},{"cachePoint":{"type":"default"}}],
		"messages":[{"role":"user","content":[{"text":"hi"}]},{"role":"assistant","content":[{"text":"yo"}]},
			{"role":"user","content":[{"text":"more"},{"cachePoint":{"type":"default"}}]}]}`
	for name, c := range map[string]struct {
		f    func([]byte) ([]block, error)
		body string
	}{"anthropic": {anthropicBlocks, anth}, "converse": {converseBlocks, conv}} {
		blocks, err := c.f([]byte(c.body))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var marks []bool
		for _, b := range blocks {
			marks = append(marks, b.mark)
			if strings.Contains(string(b.key), "cache") {
				t.Errorf("%s: a marker is part of the cached content: %s", name, b.key)
			}
		}
		if want := []bool{true, true, false, false, true}; len(marks) != len(want) || marks[0] != want[0] || marks[1] != want[1] ||
			marks[2] != want[2] || marks[3] != want[3] || marks[4] != want[4] {
			t.Errorf("%s: markers %v, want %v", name, marks, want)
		}
	}
}

// TestNativePromptCache drives the Messages API with the cache on: the usage reports the write,
// then the read, and /_fake/native/cache lists the breakpoints each request carried.
func TestNativePromptCache(t *testing.T) {
	n := NewNative(nil)
	n.Key, n.Cache = "k", NewPromptCache()
	srv := httptest.NewServer(n)
	defer srv.Close()
	system := strings.Repeat("Rules for the assistant. ", 400) // ~2.5k tokens
	body := `{"model":"claude-sonnet-4-5","max_tokens":100,"system":[{"type":"text","text":"` + system + `","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":"hi"}]}`
	var got []map[string]float64
	for range 2 {
		req, _ := http.NewRequest("POST", srv.URL+"/v1/messages", strings.NewReader(body))
		req.Header.Set("x-api-key", "k")
		req.Header.Set("anthropic-version", "2023-06-01")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var m struct{ Usage map[string]float64 }
		_ = json.NewDecoder(resp.Body).Decode(&m)
		resp.Body.Close()
		got = append(got, m.Usage)
	}
	if got[0]["cache_creation_input_tokens"] < 2000 || got[0]["cache_read_input_tokens"] != 0 ||
		got[1]["cache_read_input_tokens"] != got[0]["cache_creation_input_tokens"] || got[1]["cache_creation_input_tokens"] != 0 ||
		got[0]["input_tokens"] != got[1]["input_tokens"] || got[0]["input_tokens"] == 0 {
		t.Errorf("usage of the two calls: %v", got)
	}
	resp, err := http.Get(srv.URL + "/_fake/native/cache")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if string(b) != `{"breakpoints":[1,1]}`+"\n" {
		t.Errorf("/_fake/native/cache = %s", b)
	}
}

package fuzzgen

import (
	"encoding/json"
	"math/rand"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestQuoteReadsBack: a quoted string decodes, as JSON and as YAML, to Decoded of it, whatever
// bytes it holds (control characters, separators, invalid UTF-8).
func TestQuoteReadsBack(t *testing.T) {
	for _, s := range []string{"", "plain", `q"b\s`, "\x00\x1f\x7f\u0085\u009f", "a\u2028b\u2029c\ufeffd\ufffe",
		"\x89bad\xff", "é😀", "line\nnext\r\ttab"} {
		q := Quote(s)
		var fromJSON, fromYAML string
		if err := json.Unmarshal([]byte(q), &fromJSON); err != nil || fromJSON != Decoded(s) {
			t.Errorf("JSON: %s read back as %q (%v), want %q", q, fromJSON, err, Decoded(s))
		}
		if err := yaml.Unmarshal([]byte("v: "+q), &struct {
			V *string `yaml:"v"`
		}{&fromYAML}); err != nil || fromYAML != Decoded(s) {
			t.Errorf("YAML: %s read back as %q (%v), want %q", q, fromYAML, err, Decoded(s))
		}
	}
}

// TestDocumentsAreJSON: whatever the bytes, the writers make JSON, except when Damage broke the
// document on purpose, which happens now and then but not most of the time.
func TestDocumentsAreJSON(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	writers := map[string]func(*Gen) string{
		"ChatBody":     func(g *Gen) string { return g.ChatBody("m") },
		"MessagesBody": func(g *Gen) string { return g.MessagesBody("m") },
		"Schema":       func(g *Gen) string { return g.Schema(3) },
		"Value":        func(g *Gen) string { return g.Value(3) },
	}
	for name, write := range writers {
		invalid := 0
		for range 2000 {
			b := make([]byte, r.Intn(300))
			r.Read(b)
			if !json.Valid([]byte(write(New(b)))) {
				invalid++
			}
		}
		if name == "Schema" || name == "Value" {
			if invalid > 0 {
				t.Errorf("%s: %d of 2000 not JSON", name, invalid)
			}
		} else if invalid == 0 || invalid > 2000/8 {
			t.Errorf("%s: %d of 2000 not JSON; want some (Damage) but few", name, invalid)
		}
	}
}

// TestEndOfData: past the end every choice is the first one, so a short input is a small document.
func TestEndOfData(t *testing.T) {
	g := New(nil)
	if g.Byte() != 0 || g.N(7) != 0 || g.Bool() || g.Chance(2) || g.Raw(10) != "" || g.Pick("a", "b") != "a" {
		t.Error("choices past the end are not zero")
	}
	if got := New(nil).ChatBody("m"); got != `{"messages":[{"role":"user","content":"hi"}],"model":"m"}` {
		t.Errorf("empty input wrote %s", got)
	}
}

package openclaw

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"testing"
	"time"
)

// canonJSON prints a plain value the way testdata/json5/cases.json records JSON5.parse results:
// sorted keys, JavaScript number formatting, "#NaN", "#Inf" and "#-Inf" for the non-finite.
func canonJSON(v any) string {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = quoteString(k, '"', true) + ":" + canonJSON(v[k])
		}
		return "{" + strings.Join(parts, ",") + "}"
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = canonJSON(e)
		}
		return "[" + strings.Join(parts, ",") + "]"
	case string:
		return quoteString(v, '"', true)
	case float64:
		switch {
		case math.IsNaN(v):
			return `"#NaN"`
		case math.IsInf(v, 1):
			return `"#Inf"`
		case math.IsInf(v, -1):
			return `"#-Inf"`
		}
		return formatNumber(v)
	case bool:
		return fmt.Sprint(v)
	}
	return "null"
}

// TestConformance compares the scanner with the json5 npm package (2.2.3, the parser OpenClaw
// 2026.9.6 falls back to): testdata/json5/cases.json holds its verdict on each input.
func TestConformance(t *testing.T) {
	raw, err := os.ReadFile("testdata/json5/cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		In    string `json:"in"`
		OK    bool   `json:"ok"`
		Value string `json:"value"`
		Err   string `json:"err"`
	}
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	// Where we differ on purpose.
	differs := map[string]string{
		"[]":                   "the config must be an object",
		"1":                    "the config must be an object",
		"'x'":                  "the config must be an object",
		"{a:'\\uD83D'}":        "a lone surrogate cannot live in a Go string (U+FFFD)",
		"{a:'\\uDE00\\uD83D'}": "a lone surrogate cannot live in a Go string (U+FFFD)",
	}
	for _, c := range cases {
		d, err := Parse([]byte(c.In))
		if why, ok := differs[c.In]; ok {
			t.Logf("%q: differs on purpose (%s): %v", c.In, why, err)
			continue
		}
		switch {
		case c.OK && err != nil:
			t.Errorf("%q: json5 accepts it (%s), Parse says %v", c.In, c.Value, err)
		case !c.OK && err == nil:
			t.Errorf("%q: json5 rejects it (%s), Parse accepts it as %s", c.In, c.Err, canonJSON(d.Value()))
		case c.OK:
			if got := canonJSON(d.Value()); got != c.Value {
				t.Errorf("%q: got %s, json5 says %s", c.In, got, c.Value)
			}
		}
	}
}

func TestParseValues(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"{a:0x1F,b:-0x10,c:.5,d:5.,e:+1,f:1e3}", `{"a":31,"b":-16,"c":0.5,"d":5,"e":1,"f":1000}`},
		{"{a:Infinity,b:-Infinity,c:NaN}", `{"a":"#Inf","b":"#-Inf","c":"#NaN"}`},
		{"{a:'multi\\\nline'}", `{"a":"multiline"}`},
		{"{a:1,a:2}", `{"a":2}`},
		{"// c\n{/* c */a/* c */:/* c */[1,/* c */2,]//c\n,}", `{"a":[1,2]}`},
		{"{'k\\'q':\"v\\\"q\"}", `{"k'q":"v\"q"}`},
		{"{a:'\\x41\\u00e9\\uD83D\\uDE00\\0'}", `{"a":"Aé😀\u0000"}`},
	} {
		d, err := Parse([]byte(tc.in))
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if got := canonJSON(d.Value()); got != tc.want {
			t.Errorf("%q: got %s, want %s", tc.in, got, tc.want)
		}
	}
}

// TestParseHostile: bad input gets an error, quickly, never a panic.
func TestParseHostile(t *testing.T) {
	big := bytes.Repeat([]byte(" "), MaxSize+1)
	copy(big, "{}")
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"deep arrays", []byte("{a:" + strings.Repeat("[", 100000)), "nesting deeper"},
		{"deep objects", []byte(strings.Repeat("{a:", 100000)), "nesting deeper"},
		{"too large", big, "too large"},
		{"invalid utf-8", []byte("{a:'\xff'}"), "invalid UTF-8"},
		{"overlong utf-8", []byte("{a:'\xc0\xaf'}"), "invalid UTF-8"},
		{"NUL", []byte("{a:'x\x00'}"), "NUL"},
		{"NUL outside", []byte("{\x00}"), "NUL"},
		{"unterminated comment", []byte("{/* never"), "unterminated"},
		{"unterminated string", []byte("{a:'x"), "unterminated string"},
		{"unterminated object", []byte("{a:1,"), "unterminated object"},
		{"empty", nil, "empty document"},
		{"only a comment", []byte("// nothing\n"), "empty document"},
		{"not an object", []byte("[1]"), "must be an object"},
		{"garbage after", []byte("{} {}"), "after the end"},
		{"bad escape", []byte(`{a:"\u12"}`), "bad \\u escape"},
		{"octal", []byte(`{a:"\01"}`), "octal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := Parse(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
	if _, err := Parse(big); !errors.Is(err, ErrTooLarge) {
		t.Errorf("too large: %v is not ErrTooLarge", err)
	}
	// Just under the limit, one long string: fine.
	long := append([]byte("{a:'"), bytes.Repeat([]byte("x"), MaxSize-10)...)
	long = append(long, "'}"...)
	if _, err := Parse(long); err != nil {
		t.Errorf("long string: %v", err)
	}
}

func TestSyntaxErrorPosition(t *testing.T) {
	_, err := Parse([]byte("{\n  a: 1,\n  b: @\n}"))
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want a *SyntaxError", err)
	}
	if se.Line != 3 || se.Col != 6 {
		t.Errorf("at %d:%d, want 3:6 (%v)", se.Line, se.Col, err)
	}
}

func TestFormatNumber(t *testing.T) {
	for f, want := range map[float64]string{
		0: "0", 1: "1", -7: "-7", 128000: "128000", 0.5: "0.5", 0.075: "0.075", 1.5e-7: "1.5e-7",
		1e-6: "0.000001", 1e21: "1e+21", 1e20: "100000000000000000000", 123.456: "123.456",
		3.0000000000000004: "3.0000000000000004", math.Inf(1): "Infinity", math.NaN(): "NaN", -1.25e-10: "-1.25e-10",
	} {
		if got := formatNumber(f); got != want {
			t.Errorf("formatNumber(%v) = %q, want %q", f, got, want)
		}
	}
}

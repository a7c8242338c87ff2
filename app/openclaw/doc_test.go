package openclaw

import (
	"errors"
	"strings"
	"testing"
)

func TestEdits(t *testing.T) {
	p := func(s ...string) []string { return s }
	for _, tc := range []struct {
		name   string
		before string
		edit   func(d *Doc) error
		after  string
	}{
		{
			name:   "insert after a line comment",
			before: "{\n  a: 1, // one\n  b: 2 // two\n}\n",
			edit:   func(d *Doc) error { return d.Set(p("c"), 3) },
			after:  "{\n  a: 1, // one\n  b: 2, // two\n  c: 3\n}\n",
		},
		{
			name:   "insert keeps trailing commas",
			before: "{\n  a: 1,\n}",
			edit:   func(d *Doc) error { return d.Set(p("b"), "x") },
			after:  "{\n  a: 1,\n  b: \"x\",\n}",
		},
		{
			name:   "insert into a one-line object",
			before: `{ a: { x: 1 }, b: { y: 2, } }`,
			edit: func(d *Doc) error {
				if err := d.Set(p("a", "z"), true); err != nil {
					return err
				}
				return d.Set(p("b", "w"), Object{{"k", []any{1, 2}}})
			},
			after: `{ a: { x: 1, z: true }, b: { y: 2, w: { k: [1, 2] }, } }`,
		},
		{
			name:   "quoted siblings get a quoted key",
			before: "{\n  'a': 1\n}",
			edit:   func(d *Doc) error { return d.Set(p("b"), 2) },
			after:  "{\n  'a': 1,\n  'b': 2\n}",
		},
		{
			name:   "single-quoted strings stay single-quoted",
			before: "{\n  a: 'x',\n  b: 'y',\n}",
			edit:   func(d *Doc) error { return d.Set(p("c"), "it's") },
			after:  "{\n  a: 'x',\n  b: 'y',\n  c: 'it\\'s',\n}",
		},
		{
			name:   "missing parents are created, tab indent",
			before: "{\n\ta: 1\n}",
			edit:   func(d *Doc) error { return d.Set(p("x", "y", "z"), 1) },
			after:  "{\n\ta: 1,\n\tx: {\n\t\ty: {\n\t\t\tz: 1\n\t\t}\n\t}\n}",
		},
		{
			name:   "CRLF kept",
			before: "{\r\n  \"a\": 1\r\n}\r\n",
			edit:   func(d *Doc) error { return d.Set(p("b"), Object{{"c", 2}}) },
			after:  "{\r\n  \"a\": 1,\r\n  \"b\": {\r\n    \"c\": 2\r\n  }\r\n}\r\n",
		},
		{
			name:   "replace keeps the comment after it",
			before: "{\n  port: 4000, // the gateway\n}",
			edit:   func(d *Doc) error { return d.Set(p("port"), 4100) },
			after:  "{\n  port: 4100, // the gateway\n}",
		},
		{
			name:   "an equal value is not rewritten",
			before: "{ a: 0x10, b: 'x', c: [1,2], d: +.5e1 }",
			edit: func(d *Doc) error {
				for _, e := range []struct {
					k string
					v any
				}{{"a", 16}, {"b", "x"}, {"c", []int{1, 2}}, {"d", 5.0}} {
					if err := d.Set(p(e.k), e.v); err != nil {
						return err
					}
				}
				return nil
			},
			after: "{ a: 0x10, b: 'x', c: [1,2], d: +.5e1 }",
		},
		{
			name:   "delete the last member takes the comma before it",
			before: "{\n  \"a\": 1,\n  \"b\": 2\n}",
			edit:   func(d *Doc) error { return d.Delete(p("b")) },
			after:  "{\n  \"a\": 1\n}",
		},
		{
			name:   "delete with its line and comment, others stay",
			before: "{\n  // about a\n  a: 1,\n  b: 2, // about b\n  c: 3,\n}",
			edit:   func(d *Doc) error { return d.Delete(p("b")) },
			after:  "{\n  // about a\n  a: 1,\n  c: 3,\n}",
		},
		{
			name:   "delete the only member",
			before: "{\n  \"x\": {\n    \"a\": 1\n  }\n}",
			edit:   func(d *Doc) error { return d.Delete(p("x", "a")) },
			after:  "{\n  \"x\": {}\n}",
		},
		{
			name:   "delete on one line",
			before: "{ a: 1, b: 2 }",
			edit:   func(d *Doc) error { return d.Delete(p("b")) },
			after:  "{ a: 1 }",
		},
		{
			name:   "delete every duplicate",
			before: "{\n  a: 1,\n  b: 2,\n  a: 3,\n}",
			edit:   func(d *Doc) error { return d.Delete(p("a")) },
			after:  "{\n  b: 2,\n}",
		},
		{
			name:   "delete a missing path is a no-op",
			before: "{ a: 'x' }",
			edit:   func(d *Doc) error { return d.Delete(p("a", "b", "c")) },
			after:  "{ a: 'x' }",
		},
		{
			name:   "append to a JSON array expands it",
			before: "{\n  \"allow\": []\n}",
			edit:   func(d *Doc) error { return d.Append(p("allow"), "litellm/*") },
			after:  "{\n  \"allow\": [\n    \"litellm/*\"\n  ]\n}",
		},
		{
			name:   "append to a JSON5 one-line array",
			before: "{\n  allow: ['a', 'b'], // ok\n}",
			edit:   func(d *Doc) error { return d.Append(p("allow"), "c") },
			after:  "{\n  allow: ['a', 'b', 'c'], // ok\n}",
		},
		{
			name:   "append into an array with only a comment",
			before: "{\n  m: [\n    // none yet\n  ],\n}",
			edit:   func(d *Doc) error { return d.Append(p("m"), Object{{"id", "x"}}) },
			after:  "{\n  m: [\n    // none yet\n    {\n      id: \"x\",\n    },\n  ],\n}",
		},
		{
			name:   "set through an array index",
			before: "{\n  m: [{ id: 'a', n: 1 }],\n}",
			edit:   func(d *Doc) error { return d.Set(p("m", "0", "n"), 2) },
			after:  "{\n  m: [{ id: 'a', n: 2 }],\n}",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := mustParse(t, tc.before)
			if err := tc.edit(d); err != nil {
				t.Fatal(err)
			}
			if got := string(d.Bytes()); got != tc.after {
				t.Errorf("got\n%s\nwant\n%s", got, tc.after)
			}
		})
	}
}

func TestEditErrors(t *testing.T) {
	d := mustParse(t, "{ a: 'x', m: [1] }")
	before := string(d.Bytes())
	for name, err := range map[string]error{
		"through a string": d.Set([]string{"a", "b"}, 1),
		"index past end":   d.Set([]string{"m", "5"}, 1),
		"not an index":     d.Set([]string{"m", "x"}, 1),
		"root":             d.Set(nil, 1),
		"append to string": d.Append([]string{"a"}, 1),
		"bad type":         d.Set([]string{"z"}, struct{}{}),
		"bad utf-8":        d.Set([]string{"z"}, "\xff"),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if !errors.Is(d.Set([]string{"a", "b"}, 1), ErrPath) {
		t.Error("want ErrPath")
	}
	if got := string(d.Bytes()); got != before {
		t.Errorf("failed edits changed the file: %s", got)
	}
}

func TestGet(t *testing.T) {
	d := mustParse(t, "{ a: { b: [10, { c: 'x' }] } }")
	if v, ok := d.Get([]string{"a", "b", "1", "c"}); !ok || v != "x" {
		t.Errorf("got %v %v", v, ok)
	}
	for _, p := range [][]string{{"a", "z"}, {"a", "b", "2"}, {"a", "b", "01"}, {"a", "b", "0", "x"}} {
		if _, ok := d.Get(p); ok {
			t.Errorf("%v: found", p)
		}
	}
}

func TestNew(t *testing.T) {
	d := New()
	if !d.JSON() || !strings.HasPrefix(string(d.Bytes()), "{") {
		t.Fatalf("New() = %q", d.Bytes())
	}
}

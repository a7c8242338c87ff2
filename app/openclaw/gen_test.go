package openclaw

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// gen writes a random but valid JSON5 document from a byte string (a fuzzer's input), together
// with the value it must parse to. It covers the syntax OpenClaw configs meet: comments,
// trailing commas, bare and quoted keys, escapes, line continuations, JSON5 numbers, and the plain
// JSON OpenClaw itself writes.
type gen struct {
	data []byte
	i    int
	// per document
	unit   string
	nl     string
	json   bool // plain JSON.stringify output
	chaos  bool // random white space and comments between tokens
	trail  bool // trailing commas in multi-line containers
	bare   bool // bare keys where possible
	squote bool
}

func (g *gen) byte() byte {
	if g.i >= len(g.data) {
		return 0
	}
	b := g.data[g.i]
	g.i++
	return b
}

func (g *gen) n(k int) int { return int(g.byte()) % k }

func (g *gen) pick(s []string) string { return s[g.n(len(s))] }

func (g *gen) doc() (string, map[string]any) {
	switch g.n(4) {
	case 0:
		g.json, g.unit, g.nl = true, "  ", "\n"
	case 1:
		g.unit, g.nl, g.trail, g.bare = "  ", "\n", true, true
	case 2:
		g.unit, g.nl, g.bare, g.squote = "\t", "\r\n", g.n(2) == 0, true
	default:
		g.unit, g.nl, g.chaos, g.trail, g.bare = g.pick([]string{"  ", "    ", "\t"}), "\n", true, g.n(2) == 0, true
	}
	var b strings.Builder
	if g.chaos && g.n(3) == 0 {
		b.WriteString("// leading comment" + g.nl)
	}
	v := g.object(&b, 0, "", true)
	b.WriteString(g.nl)
	if g.chaos && g.n(3) == 0 {
		b.WriteString("/* trailing */" + g.nl)
	}
	return b.String(), v
}

// ws is white space between tokens on one line.
func (g *gen) ws() string {
	if !g.chaos {
		return ""
	}
	return g.pick([]string{"", "", "", " ", "\t", " /* c */ ", "/**/", "\u00a0", "\ufeff"})
}

func (g *gen) value(b *strings.Builder, depth int, indent string) any {
	k := g.n(10)
	if depth >= 4 && k < 3 {
		k = 3 + g.n(7)
	}
	switch k {
	case 0, 1:
		return g.object(b, depth, indent, g.n(3) != 0)
	case 2:
		return g.array(b, depth, indent, g.n(2) == 0)
	case 3, 4:
		s := g.pick(stringPool)
		b.WriteString(g.str(s, false))
		return s
	case 5, 6:
		f, text := g.number()
		b.WriteString(text)
		return f
	case 7:
		b.WriteString("true")
		return true
	case 8:
		b.WriteString("false")
		return false
	}
	b.WriteString("null")
	return nil
}

var stringPool = []string{
	"", "hello", "litellm/claude-opus-4-6", "${LITELLM_API_KEY}", "http://127.0.0.1:4000/v1",
	"a'b\"c", "tab\tnl\n", "é ü", "😀", "line\u2028sep", "back\\slash", "nul\x00", "/* not a comment */",
	"// nor this", "x,y}]", "\x7f\x1f",
}

var keyPool = []string{
	"a", "b", "mode", "primary", "models", "litellm", "id", "x_1", "$k", "with space", "litellm/gpt-4o",
	"ключ", "", "0", "quote'\"", "true", "apiKey",
}

// str writes s as a string literal with randomly chosen escapes.
func (g *gen) str(s string, key bool) string {
	q := byte('"')
	if !g.json && (g.squote || g.n(4) == 0) && g.n(3) != 0 {
		q = '\''
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		if !g.json && g.chaos && g.n(8) == 0 {
			b.WriteString(g.pick([]string{"\\\n", "\\\r\n", "\\\u2028"})) // line continuation
		}
		switch {
		case r == rune(q) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t' && g.n(2) == 0:
			b.WriteString(`\t`)
		case r == 0 && !g.json:
			b.WriteString(`\0`)
		case r < 0x20 || r == 0x2028 && g.json:
			fmt.Fprintf(&b, `\u%04x`, r)
		case !g.json && r < 0x100 && g.n(6) == 0:
			fmt.Fprintf(&b, `\x%02X`, r)
		case r >= 0x10000 && g.n(2) == 0:
			r1, r2 := 0xD800+((r-0x10000)>>10), 0xDC00+((r-0x10000)&0x3ff)
			fmt.Fprintf(&b, `\u%04X\u%04x`, r1, r2)
		case r < 0x10000 && g.n(7) == 0:
			fmt.Fprintf(&b, `\u%04x`, r)
		case !g.json && (r == 'a' || r == 'é') && g.n(3) == 0:
			b.WriteByte('\\') // a needless escape stands for the character itself
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}

func (g *gen) key(k string) string {
	if g.bare && isES5Identifier(k) && g.n(5) != 0 {
		return k
	}
	return g.str(k, true)
}

func isES5Identifier(k string) bool {
	if k == "" {
		return false
	}
	for i, r := range k {
		if (i == 0 && !isIDStart(r)) || !isIDPart(r) {
			return false
		}
	}
	return utf8.ValidString(k)
}

func (g *gen) number() (float64, string) {
	type form struct {
		v    float64
		json []string
		j5   []string
	}
	forms := []form{
		{0, []string{"0", "0.0", "0e0"}, []string{"+0", "0x0", ".0e1", "-0"}},
		{1, []string{"1", "1.0", "1e0", "10e-1"}, []string{"+1", "0x1", "1.", "0X01"}},
		{42, []string{"42", "4.2e1", "420E-1"}, []string{"0x2A", "0x2a", "+42", "42."}},
		{-7, []string{"-7", "-7.00", "-0.7e1"}, []string{"-0x7", "-7."}},
		{128000, []string{"128000", "1.28e5", "1.28E+5"}, []string{"0x1F400"}},
		{0.5, []string{"0.5", "5e-1"}, []string{".5", "+.5", "5.e-1"}},
		{1.5e-7, []string{"1.5e-7", "0.00000015"}, []string{".15e-6"}},
		{1e21, []string{"1e21", "1000000000000000000000"}, []string{"1e+21"}},
		{0.075, []string{"0.075"}, []string{".075"}},
		{math.Inf(1), nil, []string{"Infinity", "+Infinity"}},
		{math.Inf(-1), nil, []string{"-Infinity"}},
		{math.NaN(), nil, []string{"NaN", "-NaN", "+NaN"}},
	}
	for {
		f := forms[g.n(len(forms))]
		choices := f.json
		if !g.json {
			choices = append(append([]string{}, f.json...), f.j5...)
		}
		if len(choices) == 0 {
			continue
		}
		return f.v, g.pick(choices)
	}
}

func (g *gen) object(b *strings.Builder, depth int, indent string, multi bool) map[string]any {
	out := map[string]any{}
	n := g.n(5)
	if depth == 0 {
		n = 1 + g.n(5)
	}
	if g.json && n > 0 {
		multi = true // JSON.stringify(_, null, 2) puts every non-empty container on lines
	}
	inner := indent + g.unit
	b.WriteByte('{')
	for i := 0; i < n; i++ {
		if multi {
			b.WriteString(g.nl + inner)
			if g.chaos && g.n(4) == 0 {
				b.WriteString("// about the next key" + g.nl + inner)
			}
		} else if !g.json {
			b.WriteString(g.pick([]string{" ", "", " "}))
		}
		k := g.pick(keyPool)
		b.WriteString(g.key(k) + g.ws() + ":" + g.ws())
		if g.json || !g.chaos || g.n(3) != 0 {
			b.WriteString(" ")
		}
		out[k] = g.value(b, depth+1, inner)
		b.WriteString(g.ws())
		last := i == n-1
		if !last || (!g.json && (g.trail && multi || g.n(6) == 0)) {
			b.WriteByte(',')
		}
		if multi && g.chaos && g.n(4) == 0 {
			b.WriteString(" // note")
		}
	}
	if multi && n > 0 {
		b.WriteString(g.nl + indent)
	} else if !g.json && n > 0 {
		b.WriteString(" ")
	}
	b.WriteByte('}')
	return out
}

func (g *gen) array(b *strings.Builder, depth int, indent string, multi bool) []any {
	out := []any{}
	n := g.n(4)
	if g.json && n > 0 {
		multi = true
	}
	inner := indent + g.unit
	b.WriteByte('[')
	for i := 0; i < n; i++ {
		if multi {
			b.WriteString(g.nl + inner)
		} else if i > 0 && !g.json {
			b.WriteString(" ")
		}
		out = append(out, g.value(b, depth+1, inner))
		b.WriteString(g.ws())
		last := i == n-1
		if !last || (!g.json && (g.trail && multi || g.n(6) == 0)) {
			b.WriteByte(',')
		}
		if multi && g.chaos && g.n(5) == 0 {
			b.WriteString(" /* el */")
		}
	}
	if multi && n > 0 {
		b.WriteString(g.nl + indent)
	}
	b.WriteByte(']')
	return out
}

// An edit the fuzzer applies, and the same edit on plain values.
type edit struct {
	kind  string // set, delete, append
	path  []string
	value any // canonical
}

func (e edit) String() string {
	return fmt.Sprintf("%s %q %s", e.kind, e.path, renderPlainForLog(e.value))
}

func renderPlainForLog(v any) string {
	d := New()
	return d.render(v, "", false)
}

// editFor picks an edit of the document (a path into it, mostly to things that exist).
func (g *gen) editFor(v map[string]any) edit {
	e := edit{kind: []string{"set", "set", "delete", "append"}[g.n(4)]}
	var cur any = v
	for {
		switch c := cur.(type) {
		case map[string]any:
			keys := sortedMapKeys(c)
			if len(keys) == 0 || g.n(4) == 0 {
				e.path = append(e.path, g.pick(keyPool))
				if g.n(3) == 0 {
					e.path = append(e.path, g.pick(keyPool)) // a missing parent too
				}
				e.value = g.plainValue(0)
				return e
			}
			k := keys[g.n(len(keys))]
			e.path = append(e.path, k)
			cur = c[k]
		case []any:
			if len(c) == 0 || g.n(3) == 0 {
				if e.kind == "set" {
					e.path = append(e.path, strconv.Itoa(len(c)+g.n(2))) // out of range: an error
				}
				e.value = g.plainValue(0)
				return e
			}
			i := g.n(len(c))
			e.path = append(e.path, strconv.Itoa(i))
			cur = c[i]
		default:
			e.value = g.plainValue(0)
			return e
		}
		if g.n(3) == 0 {
			e.value = g.plainValue(0)
			return e
		}
	}
}

// plainValue is a value to write, in canonical form (Object keeps order).
func (g *gen) plainValue(depth int) any {
	switch g.n(9) {
	case 0:
		return nil
	case 1:
		return g.n(2) == 0
	case 2:
		return []float64{0, 1, -2.5, 128000, 1e-7, 3.0000000000000004, 1e21, -0.0}[g.n(8)]
	case 3, 4:
		return g.pick(stringPool)
	case 5:
		if depth < 2 {
			o := Object{}
			seen := map[string]bool{}
			for i := g.n(3); i > 0; i-- {
				k := g.pick(keyPool)
				if !seen[k] {
					seen[k] = true
					o = append(o, Field{k, g.plainValue(depth + 1)})
				}
			}
			return o
		}
	case 6:
		if depth < 2 {
			a := []any{}
			for i := g.n(3); i > 0; i-- {
				a = append(a, g.plainValue(depth+1))
			}
			return a
		}
	case 7:
		return Object{{"id", "gpt-4o"}, {"name", "GPT-4o"}, {"input", []any{"text", "image"}}, {"contextWindow", 128000.0}}
	}
	return "x"
}

func sortedMapKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortStrings(keys)
	return keys
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// applyPlain makes the edit on plain values. ok is false when the edit cannot apply (a path
// through a scalar, an index out of range), in which case the Doc must refuse it too.
func applyPlain(root map[string]any, e edit) (ok bool) {
	var walk func(cur any, path []string) (any, bool)
	walk = func(cur any, path []string) (any, bool) {
		seg := path[0]
		last := len(path) == 1
		switch c := cur.(type) {
		case map[string]any:
			child, exists := c[seg]
			if last {
				switch e.kind {
				case "set":
					c[seg] = plain(e.value)
				case "delete":
					delete(c, seg)
				case "append":
					if !exists {
						c[seg] = []any{plain(e.value)}
						return c, true
					}
					a, isArr := child.([]any)
					if !isArr {
						return c, false
					}
					c[seg] = append(a, plain(e.value))
				}
				return c, true
			}
			if !exists {
				switch e.kind {
				case "delete":
					return c, true
				}
				child = map[string]any{}
			}
			nc, ok := walk(child, path[1:])
			if !ok {
				return c, e.kind == "delete"
			}
			c[seg] = nc
			return c, true
		case []any:
			i, okIdx := index(seg, len(c))
			if !okIdx {
				return c, e.kind == "delete"
			}
			if last {
				switch e.kind {
				case "set":
					c[i] = plain(e.value)
				case "delete":
					return append(c[:i:i], c[i+1:]...), true
				case "append":
					a, isArr := c[i].([]any)
					if !isArr {
						return c, false
					}
					c[i] = append(a, plain(e.value))
				}
				return c, true
			}
			nc, ok := walk(c[i], path[1:])
			if !ok {
				return c, e.kind == "delete"
			}
			c[i] = nc
			return c, true
		}
		return cur, e.kind == "delete"
	}
	if len(e.path) == 0 {
		return false
	}
	_, ok = walk(root, e.path)
	return ok
}

func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		a := make([]any, len(v))
		for i, e := range v {
			a[i] = deepCopy(e)
		}
		return a
	}
	return v
}

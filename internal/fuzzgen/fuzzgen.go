// Package fuzzgen turns a fuzzer's bytes into structured input: each choice (which key, which
// branch, how long a string) takes the next byte, so that every mutation of the bytes is still a
// well-formed document and reaches the code under test, where random bytes would rarely get past
// its first parse. Past the end of the data every choice is 0: short inputs make small documents.
package fuzzgen

import (
	"fmt"
	"strconv"
	"strings"
)

// Gen reads choices from Data.
type Gen struct {
	Data []byte
	i    int
}

// New returns a generator over data.
func New(data []byte) *Gen { return &Gen{Data: data} }

// Byte returns the next byte, 0 at the end.
func (g *Gen) Byte() byte {
	if g.i >= len(g.Data) {
		return 0
	}
	b := g.Data[g.i]
	g.i++
	return b
}

// N returns a choice in [0, k).
func (g *Gen) N(k int) int {
	if k <= 1 {
		return 0
	}
	if k <= 256 {
		return int(g.Byte()) % k
	}
	return (int(g.Byte())<<8 | int(g.Byte())) % k
}

// Bool returns a coin flip (false at the end of the data).
func (g *Gen) Bool() bool { return g.Byte()&1 == 1 }

// Chance is true one time in k.
func (g *Gen) Chance(k int) bool { return g.N(k) == k-1 }

// Pick returns one of s.
func (g *Gen) Pick(s ...string) string { return s[g.N(len(s))] }

// Raw returns up to max bytes of the data itself, as the fuzzer wrote them.
func (g *Gen) Raw(max int) string {
	n := g.N(max + 1)
	end := min(g.i+n, len(g.Data))
	s := string(g.Data[g.i:end])
	g.i = end
	return s
}

// Text returns one of the words given, usually, or (1 in 8) raw bytes from the data: values the
// code under test knows, and ones it has never seen.
func (g *Gen) Text(words ...string) string {
	if len(words) == 0 || g.Chance(8) {
		return g.Raw(24)
	}
	return g.Pick(words...)
}

// Enum is Text for the values that steer the code (a role, a type): raw bytes only 1 in 32.
func (g *Gen) Enum(words ...string) string {
	if g.Chance(32) {
		return g.Raw(12)
	}
	return g.Pick(words...)
}

// TextOf returns a maker of Text values, quoted as JSON.
func (g *Gen) TextOf(words ...string) func() string {
	return func() string { return Quote(g.Text(words...)) }
}

// EnumOf returns a maker of Enum values, quoted as JSON.
func (g *Gen) EnumOf(words ...string) func() string {
	return func() string { return Quote(g.Enum(words...)) }
}

// Int returns a small number usually, and now and then an edge (0, negative, huge).
func (g *Gen) Int() int64 {
	switch g.N(8) {
	case 0:
		return 0
	case 1:
		return -int64(g.Byte())
	case 2:
		return int64(g.Byte())<<24 | int64(g.Byte())<<16 | int64(g.Byte())<<8 | int64(g.Byte())
	case 3:
		return 1<<63 - 1 - int64(g.Byte())
	}
	return int64(g.Byte())
}

// Integer returns Int as JSON.
func (g *Gen) Integer() string { return strconv.FormatInt(g.Int(), 10) }

// Number returns a JSON number: an integer, a fraction or an exponent form.
func (g *Gen) Number() string {
	switch g.N(6) {
	case 0:
		return strconv.FormatInt(g.Int(), 10) + "." + strconv.Itoa(int(g.Byte()))
	case 1:
		return strconv.Itoa(int(g.Byte())) + "e" + strconv.Itoa(int(int8(g.Byte())))
	}
	return strconv.FormatInt(g.Int(), 10)
}

// Quote returns s as a JSON string that is also a YAML double-quoted scalar: control
// characters (C0, DEL, C1, which YAML does not allow raw), the line and paragraph separators
// (YAML folds them), the BOM and the two non-characters are escaped;
// invalid UTF-8 becomes U+FFFD, byte by byte, as Decoded reports.
func Quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r >= 0x7f && r <= 0x9f || r == 0x2028 || r == 0x2029 || r == 0xfeff || r == 0xfffe || r == 0xffff:
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// Decoded is what a JSON or YAML decoder reads back from Quote(s).
func Decoded(s string) string { return string([]rune(s)) }

// Obj writes a JSON object from key/value pairs already encoded as JSON, in the order given.
func Obj(kv ...string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(Quote(kv[i]))
		b.WriteByte(':')
		b.WriteString(kv[i+1])
	}
	b.WriteByte('}')
	return b.String()
}

// Arr writes a JSON array of values already encoded as JSON.
func Arr(vs ...string) string { return "[" + strings.Join(vs, ",") + "]" }

// List calls item a few times (0 to max) and returns the results.
func (g *Gen) List(max int, item func() string) []string {
	n := g.N(max + 1)
	out := make([]string, 0, n)
	for range n {
		out = append(out, item())
	}
	return out
}

// Fields builds a JSON object: each field is kept or dropped (see Field.Often; a zero Field is
// skipped), and now and then a
// field of the wrong type (1 in 64) or an unknown key (1 in 8) goes in, so that the validation
// paths run too without failing most documents.
func (g *Gen) Fields(fields ...Field) string {
	var kv []string
	for _, f := range fields {
		if f.Make == nil {
			continue
		}
		if f.Often && g.Chance(8) || !f.Often && !g.Bool() {
			continue
		}
		if g.Chance(64) {
			kv = append(kv, f.Key, g.Value(1))
			continue
		}
		kv = append(kv, f.Key, f.Make())
	}
	if g.Chance(8) {
		kv = append(kv, g.Raw(12), g.Value(1))
	}
	return Obj(kv...)
}

// Field is one key of an object and how to make its value.
type Field struct {
	Key  string
	Make func() string
	// Often keeps the field 7 times in 8 rather than 1 in 2: for the fields without which the
	// code under test refuses the whole document.
	Often bool
}

// F is a field kept half the time.
func F(key string, value func() string) Field { return Field{Key: key, Make: value} }

// O is a field kept most of the time.
func O(key string, value func() string) Field { return Field{Key: key, Make: value, Often: true} }

// Value returns any JSON value, nested at most depth levels.
func (g *Gen) Value(depth int) string {
	k := 6
	if depth > 0 {
		k = 8
	}
	switch g.N(k) {
	case 0:
		return "null"
	case 1:
		return g.Pick("true", "false")
	case 2, 3:
		return g.Number()
	case 4, 5:
		return Quote(g.Text("", "x", "text", "image", "auto", "none", "user"))
	case 6:
		return Arr(g.List(3, func() string { return g.Value(depth - 1) })...)
	}
	return Obj(g.listKV(depth)...)
}

func (g *Gen) listKV(depth int) []string {
	var kv []string
	for range g.N(4) {
		kv = append(kv, g.Text("type", "text", "a", "properties", "items", "$ref"), g.Value(depth-1))
	}
	return kv
}

// Damage now and then breaks a finished document (cuts it short or overwrites a byte), so that
// the parse errors of the code under test stay covered; mostly it returns doc unchanged. It
// reports whether it changed doc, when a checker must no longer expect what was generated.
func (g *Gen) Damage(doc string) (string, bool) {
	if !g.Chance(16) || doc == "" {
		return doc, false
	}
	i := g.N(len(doc))
	if g.Bool() {
		return doc[:i], true
	}
	return doc[:i] + string(rune(g.Byte())) + doc[i+1:], true
}

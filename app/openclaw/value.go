package openclaw

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// render writes a canonical value. indent is the indentation of the line the value starts on;
// multi says whether objects (and arrays holding containers, or every array in an expanded file)
// may spread over lines.
func (d *Doc) render(v any, indent string, multi bool) string {
	var b strings.Builder
	d.renderTo(&b, v, indent, multi)
	return b.String()
}

func (d *Doc) renderTo(b *strings.Builder, v any, indent string, multi bool) {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case float64:
		b.WriteString(formatNumber(v))
	case string:
		q := d.st.strQuote
		b.WriteString(quoteString(v, q, d.st.json))
	case Object:
		if len(v) == 0 {
			b.WriteString("{}")
			return
		}
		if multi {
			inner := indent + d.st.unit
			b.WriteByte('{')
			for i, f := range v {
				b.WriteString(d.st.nl + inner + d.key(f.Key, d.st.quoteKeys, d.st.keyQuote) + ": ")
				d.renderTo(b, f.Value, inner, true)
				if i < len(v)-1 || d.st.trailingComma {
					b.WriteByte(',')
				}
			}
			b.WriteString(d.st.nl + indent + "}")
			return
		}
		if d.st.json {
			b.WriteByte('{')
		} else {
			b.WriteString("{ ")
		}
		for i, f := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(d.key(f.Key, d.st.quoteKeys, d.st.keyQuote) + ": ")
			d.renderTo(b, f.Value, indent, false)
		}
		if d.st.json {
			b.WriteByte('}')
		} else {
			b.WriteString(" }")
		}
	case []any:
		if len(v) == 0 {
			b.WriteString("[]")
			return
		}
		if multi && (d.st.expandArrays || hasContainer(v)) {
			inner := indent + d.st.unit
			b.WriteByte('[')
			for i, e := range v {
				b.WriteString(d.st.nl + inner)
				d.renderTo(b, e, inner, true)
				if i < len(v)-1 || d.st.trailingComma {
					b.WriteByte(',')
				}
			}
			b.WriteString(d.st.nl + indent + "]")
			return
		}
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			d.renderTo(b, e, indent, false)
		}
		b.WriteByte(']')
	}
}

// isContainer reports whether v is an object or an array.
func isContainer(v any) bool {
	switch v.(type) {
	case Object, []any:
		return true
	}
	return false
}

func hasContainer(a []any) bool {
	for _, e := range a {
		if isContainer(e) {
			return true
		}
	}
	return false
}

// quoteString writes s as a JSON (json) or JSON5 string literal with quote q.
func quoteString(s string, q byte, json bool) string {
	if json {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == rune(q) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20, !json && (r == 0x2028 || r == 0x2029):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// formatNumber writes f as JavaScript's Number#toString does, which is what JSON.stringify and
// JSON5.stringify print.
func formatNumber(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		return "0"
	}
	sign := ""
	if f < 0 {
		sign, f = "-", -f
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	mant, exp, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	x, _ := strconv.Atoi(exp)
	k, n := len(digits), x+1
	switch {
	case k <= n && n <= 21:
		return sign + digits + strings.Repeat("0", n-k)
	case 0 < n && n <= 21:
		return sign + digits[:n] + "." + digits[n:]
	case -6 < n && n <= 0:
		return sign + "0." + strings.Repeat("0", -n) + digits
	}
	m := digits[:1]
	if k > 1 {
		m += "." + digits[1:]
	}
	es := "+"
	if n-1 < 0 {
		es = "-"
	}
	return sign + m + "e" + es + strconv.Itoa(max(n-1, 1-n))
}

// canon converts a Go value into the editor's canonical form: nil, bool, string, float64, []any,
// Object (maps become Objects with sorted keys).
func canon(v any) (any, error) {
	switch v := v.(type) {
	case nil, bool, float64:
		return v, nil
	case string:
		if !utf8.ValidString(v) {
			return nil, errors.New("string is not valid UTF-8")
		}
		return v, nil
	case Object:
		out := make(Object, 0, len(v))
		seen := map[string]bool{}
		for _, f := range v {
			if !utf8.ValidString(f.Key) {
				return nil, errors.New("key is not valid UTF-8")
			}
			if seen[f.Key] {
				return nil, fmt.Errorf("duplicate key %q", f.Key)
			}
			seen[f.Key] = true
			c, err := canon(f.Value)
			if err != nil {
				return nil, err
			}
			out = append(out, Field{f.Key, c})
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			c, err := canon(e)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(rv.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return float64(rv.Uint()), nil
	case reflect.Float32, reflect.Float64:
		return rv.Float(), nil
	case reflect.String:
		return canon(rv.String())
	case reflect.Bool:
		return rv.Bool(), nil
	case reflect.Slice, reflect.Array:
		out := make([]any, rv.Len())
		for i := range out {
			c, err := canon(rv.Index(i).Interface())
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return nil, fmt.Errorf("unsupported map key type %s", rv.Type().Key())
		}
		keys := make([]string, 0, rv.Len())
		for _, k := range rv.MapKeys() {
			keys = append(keys, k.String())
		}
		sort.Strings(keys)
		o := make(Object, 0, len(keys))
		for _, k := range keys {
			o = append(o, Field{k, rv.MapIndex(reflect.ValueOf(k).Convert(rv.Type().Key())).Interface()})
		}
		return canon(o)
	}
	return nil, fmt.Errorf("unsupported value type %T", v)
}

// plain turns a canonical value into what decode returns, for comparisons.
func plain(v any) any {
	switch v := v.(type) {
	case Object:
		m := make(map[string]any, len(v))
		for _, f := range v {
			m[f.Key] = plain(f.Value)
		}
		return m
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = plain(e)
		}
		return out
	}
	return v
}

// equal compares plain values; unlike reflect.DeepEqual, NaN equals NaN (the file says the same thing).
func equal(a, b any) bool {
	switch a := a.(type) {
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, va := range a {
			vb, ok := b[k]
			if !ok || !equal(va, vb) {
				return false
			}
		}
		return true
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !equal(a[i], b[i]) {
				return false
			}
		}
		return true
	case float64:
		b, ok := b.(float64)
		return ok && (a == b || (math.IsNaN(a) && math.IsNaN(b)))
	}
	return a == b
}

// decode turns a node into plain Go values: map[string]any, []any, string, float64, bool, nil.
// A repeated key takes its last value, as in JavaScript.
func decode(n *node) any {
	switch n.kind {
	case kindObject:
		m := make(map[string]any, len(n.members))
		for _, mb := range n.members {
			m[mb.key] = decode(mb.val)
		}
		return m
	case kindArray:
		a := make([]any, len(n.members))
		for i, mb := range n.members {
			a[i] = decode(mb.val)
		}
		return a
	case kindString:
		return n.str
	case kindNumber:
		return n.num
	case kindBool:
		return n.b
	}
	return nil
}

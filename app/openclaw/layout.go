package openclaw

import (
	"bytes"
	"fmt"
	"sort"
	"unicode/utf8"
)

// Where new text goes and how it is laid out: splices on the source that keep everything
// around them byte for byte.

// splice replaces src[start:end] with text.
type splice struct {
	start, end int
	text       string
}

// apply makes the splices (ascending, non-overlapping; equal starts keep their order) and
// re-parses. An edit that would leave a file OpenClaw cannot read is refused: that is a bug here,
// and the file must never pay for it.
func (d *Doc) apply(sp []splice) error {
	sort.SliceStable(sp, func(i, j int) bool { return sp[i].start < sp[j].start })
	var b bytes.Buffer
	at := 0
	for _, s := range sp {
		b.Write(d.src[at:s.start])
		b.WriteString(s.text)
		at = s.end
	}
	b.Write(d.src[at:])
	out := b.Bytes()
	root, _, err := parse(out)
	if err != nil {
		return fmt.Errorf("openclaw: edit refused, it would not parse (a bug in the editor): %w", err)
	}
	d.src, d.root = out, root
	return nil
}

func (d *Doc) multi(c *node) bool { return multiline(d.src, c) }

// replace rewrites one value in place.
func (d *Doc) replace(n *node, v any) []splice {
	multi := n.parent == nil || d.multi(n.parent)
	if (n.kind == kindObject || n.kind == kindArray) && len(n.members) > 0 {
		multi = !singleLine(d.src, n)
	}
	text := d.render(v, lineIndent(d.src, n.start), multi)
	return []splice{{n.start, n.end, text}}
}

// insert adds a member (key) to object c, or an element to array c.
func (d *Doc) insert(c *node, key string, v any) []splice {
	src, nl := d.src, d.st.nl
	prefix := ""
	if c.kind == kindObject {
		quote, q := d.memberKeyStyle(c)
		prefix = d.key(key, quote, q) + ": "
	}
	if len(c.members) == 0 {
		inline := c.parent != nil && !d.multi(c.parent)
		if c.kind == kindArray && !isContainer(v) && !d.st.expandArrays {
			inline = true // JSON5 style: ["text", "image"]
		}
		interior := src[c.start+1 : c.end-1]
		if inline {
			text := prefix + d.render(v, lineIndent(src, c.start), false)
			if c.kind == kindObject && !d.st.json {
				text = " " + text + " "
			}
			if allSpace(interior) {
				return []splice{{c.start + 1, c.end - 1, text}}
			}
			return []splice{{c.end - 1, c.end - 1, text}}
		}
		ind := lineIndent(src, c.start)
		inner := ind + d.st.unit
		text := inner + prefix + d.render(v, inner, true)
		if d.st.trailingComma {
			text += ","
		}
		if allSpace(interior) {
			return []splice{{c.start + 1, c.end - 1, nl + text + nl + ind}}
		}
		// Comments inside: keep them, add the member after them.
		p := c.end - 1
		for p > c.start+1 && (src[p-1] == ' ' || src[p-1] == '\t') {
			p--
		}
		if src[p-1] == '\n' || src[p-1] == '\r' {
			q := p - 1
			if src[q] == '\n' && q > 0 && src[q-1] == '\r' {
				q--
			}
			return []splice{{q, q, nl + text}}
		}
		return []splice{{c.end - 1, c.end - 1, nl + text + nl + ind}}
	}
	last := c.members[len(c.members)-1]
	if !d.multi(c) {
		text := prefix + d.render(v, lineIndent(src, c.start), false)
		if last.comma >= 0 {
			return []splice{{last.comma + 1, last.comma + 1, " " + text + ","}}
		}
		return []splice{{last.val.end, last.val.end, ", " + text}}
	}
	ind, ok := ownLineIndent(src, last.keyStart)
	if !ok {
		ind = lineIndent(src, c.start) + d.st.unit
	}
	elemMulti := true
	if lv := last.val; c.kind == kindArray && (lv.kind == kindObject || lv.kind == kindArray) && len(lv.members) > 0 && singleLine(src, lv) {
		elemMulti = false // siblings are one-liners: { id: "a", name: "A" }
	}
	text := ind + prefix + d.render(v, ind, elemMulti)
	after := last.val.end
	var sp []splice
	if last.comma >= 0 {
		after = last.comma + 1
		text += ","
	} else {
		sp = append(sp, splice{last.val.end, last.val.end, ","})
	}
	if eol := restOfLine(src, after); eol >= 0 {
		return append(sp, splice{eol, eol, nl + text})
	}
	return append(sp, splice{after, after, nl + text})
}

// remove deletes member i of c with its comma, and its line when it had the line to itself.
func (d *Doc) remove(c *node, i int) []splice {
	src := d.src
	m := c.members[i]
	start, end := m.keyStart, m.val.end
	if m.comma >= 0 {
		end = m.comma + 1
	}
	last := i == len(c.members)-1
	multi := d.multi(c)
	var sp []splice
	if multi {
		if _, own := ownLineIndent(src, start); own {
			if eol := restOfLine(src, end); eol >= 0 {
				le := eol + 1
				if src[eol] == '\r' && eol+1 < len(src) && src[eol+1] == '\n' {
					le++
				}
				start, end = lineStart(src, start), le
				sp = append(sp, splice{start, end, ""})
			}
		}
	} else if last && i > 0 && m.comma < 0 {
		// { a: 1, b: 2 } → { a: 1 }: take the comma before b with it.
		start = c.members[i-1].val.end
		sp = append(sp, splice{start, end, ""})
	}
	if sp == nil {
		for end < len(src) && (src[end] == ' ' || src[end] == '\t') {
			end++
		}
		sp = append(sp, splice{start, end, ""})
	}
	if multi && last && m.comma < 0 && i > 0 {
		// The file has no trailing commas: the new last member must not get one.
		pc := c.members[i-1].comma
		sp = append([]splice{{pc, pc + 1, ""}}, sp...)
	}
	if len(c.members) == 1 {
		rest := append(bytes.Clone(src[c.start+1:start]), src[end:c.end-1]...)
		if allSpace(rest) {
			return []splice{{c.start + 1, c.end - 1, ""}}
		}
	}
	return sp
}

// restOfLine returns the offset of the line break ending off's line when only spaces, tabs and
// comments follow off on it; else -1.
func restOfLine(src []byte, off int) int {
	for i := off; i < len(src); {
		switch c := src[i]; {
		case c == ' ' || c == '\t':
			i++
		case c == '\n' || c == '\r':
			return i
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			for j := i + 2; j < len(src); j++ {
				if src[j] == '\n' || src[j] == '\r' {
					return j
				}
				if r, _ := utf8.DecodeRune(src[j:]); r == 0x2028 || r == 0x2029 {
					return -1
				}
			}
			return -1
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			e := bytes.Index(src[i+2:], []byte("*/"))
			if e < 0 || bytes.ContainsAny(src[i+2:i+2+e], "\r\n") {
				return -1
			}
			i += 2 + e + 2
		default:
			return -1
		}
	}
	return -1
}

func allSpace(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

// memberKeyStyle says how to write a new key in c: quoted unless its siblings are not.
func (d *Doc) memberKeyStyle(c *node) (quote bool, q byte) {
	if d.st.json {
		return true, '"'
	}
	if len(c.members) == 0 {
		return d.st.quoteKeys, d.st.keyQuote
	}
	unquoted := false
	for _, m := range c.members {
		if m.keyQuote == 0 {
			unquoted = true
		} else if q == 0 {
			q = m.keyQuote
		}
	}
	if q == 0 {
		q = d.st.keyQuote
	}
	return !unquoted, q
}

func (d *Doc) key(k string, quote bool, q byte) string {
	if !quote && isIdentifier(k) {
		return k
	}
	return quoteString(k, q, d.st.json)
}

// isIdentifier reports whether k can be written as a bare key. Only ASCII names are written bare.
func isIdentifier(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c == '$' || c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9') {
			continue
		}
		return false
	}
	return true
}

// lineStart returns the offset of the first byte of the line holding off.
func lineStart(src []byte, off int) int {
	for off > 0 && src[off-1] != '\n' && src[off-1] != '\r' {
		off--
	}
	return off
}

// lineIndent is the leading white space of the line holding off.
func lineIndent(src []byte, off int) string {
	s := lineStart(src, off)
	e := s
	for e < len(src) && (src[e] == ' ' || src[e] == '\t') {
		e++
	}
	return string(src[s:e])
}

// ownLineIndent returns the indentation before off when only spaces or tabs precede it on its line.
func ownLineIndent(src []byte, off int) (string, bool) {
	s := lineStart(src, off)
	for i := s; i < off; i++ {
		if src[i] != ' ' && src[i] != '\t' {
			return "", false
		}
	}
	return string(src[s:off]), true
}

// multiline reports whether a non-empty container puts its first element on a later line than its
// opening bracket.
func multiline(src []byte, n *node) bool {
	if len(n.members) == 0 {
		return false
	}
	for _, c := range src[n.start:n.members[0].keyStart] {
		if c == '\n' || c == '\r' {
			return true
		}
	}
	return false
}

// singleLine reports whether a node's text has no line break.
func singleLine(src []byte, n *node) bool {
	for _, c := range src[n.start:n.end] {
		if c == '\n' || c == '\r' {
			return false
		}
	}
	return true
}

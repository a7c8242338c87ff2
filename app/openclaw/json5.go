package openclaw

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The scanner below is the editor's ground truth: it keeps the byte span of every key and value so
// that an edit rewrites exactly the bytes it owns. It follows the JSON5 spec (https://spec.json5.org):
// comments, trailing commas, identifier keys, single-quoted strings, hex numbers, ±Infinity, NaN,
// leading or trailing decimal points, an explicit +, and line continuations inside strings.

// MaxSize is the largest config file Parse accepts. OpenClaw's own files are a few kilobytes.
const MaxSize = 10 << 20

// maxDepth bounds nesting, so hostile input cannot exhaust the stack.
const maxDepth = 200

// ErrTooLarge is wrapped by Parse when the input exceeds MaxSize.
var ErrTooLarge = errors.New("config file too large")

// SyntaxError reports where a file stops being JSON5.
type SyntaxError struct {
	Offset int // byte offset
	Line   int // 1-based
	Col    int // 1-based, in bytes
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("json5: line %d col %d: %s", e.Line, e.Col, e.Msg)
}

type nodeKind uint8

const (
	kindObject nodeKind = iota + 1
	kindArray
	kindString
	kindNumber
	kindBool
	kindNull
)

// node is one value with its span [start,end) in the source.
type node struct {
	kind       nodeKind
	start, end int
	parent     *node
	// members holds an object's members or an array's elements (key fields unused).
	members []member
	str     string
	num     float64
	b       bool
}

type member struct {
	key      string
	keyStart int  // the key, or for an array element its value
	keyQuote byte // 0 for an identifier key
	val      *node
	comma    int // offset of the comma after the value, -1 when none
}

// stats are what the scanner saw of the file's style, so edits can match it.
type stats struct {
	json5         bool // any JSON5-only feature
	unquotedKeys  int
	dquoteKeys    int
	squoteKeys    int
	dquoteStrings int
	squoteStrings int
	trailingComma int // multi-line containers whose last element has a comma
	noTrailing    int
	inlineScalarA int // scalar-only arrays on one line
	multiScalarA  int
	crlf          bool
	unit          string
	unitFound     bool
	comments      []span
}

type span struct{ start, end int }

type parser struct {
	src   []byte
	pos   int
	depth int
	st    stats
}

func parse(src []byte) (*node, *stats, error) {
	if len(src) > MaxSize {
		return nil, nil, fmt.Errorf("%w: %d bytes (limit %d)", ErrTooLarge, len(src), MaxSize)
	}
	p := &parser{src: src}
	if err := p.checkEncoding(); err != nil {
		return nil, nil, err
	}
	if err := p.skipSpace(); err != nil {
		return nil, nil, err
	}
	if p.pos >= len(src) {
		return nil, nil, p.errf(p.pos, "empty document")
	}
	if src[p.pos] != '{' {
		return nil, nil, p.errf(p.pos, "the config must be an object, starting with '{'")
	}
	root, err := p.value(nil)
	if err != nil {
		return nil, nil, err
	}
	if err := p.skipSpace(); err != nil {
		return nil, nil, err
	}
	if p.pos < len(src) {
		return nil, nil, p.errf(p.pos, "unexpected %s after the end of the document", p.describe(p.pos))
	}
	if i := bytes.IndexByte(src, '\n'); i >= 0 {
		p.st.crlf = i > 0 && src[i-1] == '\r'
	}
	return root, &p.st, nil
}

// checkEncoding rejects invalid UTF-8 and NUL bytes up front: neither belongs in a config file,
// and refusing them early keeps the rest of the scanner simple.
func (p *parser) checkEncoding() error {
	for i := 0; i < len(p.src); {
		c := p.src[i]
		if c == 0 {
			return p.errf(i, "NUL byte")
		}
		if c < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(p.src[i:])
		if r == utf8.RuneError && n <= 1 {
			return p.errf(i, "invalid UTF-8")
		}
		i += n
	}
	return nil
}

func (p *parser) errf(off int, format string, args ...any) error {
	line, col := 1, 1
	if off > len(p.src) {
		off = len(p.src)
	}
	for i := 0; i < off; i++ {
		if p.src[i] == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return &SyntaxError{Offset: off, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) describe(off int) string {
	if off >= len(p.src) {
		return "end of input"
	}
	r, _ := utf8.DecodeRune(p.src[off:])
	return strconv.QuoteRune(r)
}

func isLineTerm(r rune) bool { return r == '\n' || r == '\r' || r == 0x2028 || r == 0x2029 }

func isSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xA0, 0x2028, 0x2029, 0xFEFF:
		return true
	}
	return r > 0x7f && unicode.Is(unicode.Zs, r)
}

// skipSpace skips white space and comments, recording comment spans.
func (p *parser) skipSpace() error {
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if c == '/' && p.pos+1 < len(p.src) {
			switch p.src[p.pos+1] {
			case '/':
				start := p.pos
				p.pos += 2
				for p.pos < len(p.src) {
					r, n := utf8.DecodeRune(p.src[p.pos:])
					if isLineTerm(r) {
						break
					}
					p.pos += n
				}
				p.st.json5 = true
				p.st.comments = append(p.st.comments, span{start, p.pos})
				continue
			case '*':
				start := p.pos
				end := bytes.Index(p.src[p.pos+2:], []byte("*/"))
				if end < 0 {
					return p.errf(start, "unterminated /* comment")
				}
				p.pos += 2 + end + 2
				p.st.json5 = true
				p.st.comments = append(p.st.comments, span{start, p.pos})
				continue
			}
		}
		if c < utf8.RuneSelf {
			if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' {
				if c == '\v' || c == '\f' {
					p.st.json5 = true
				}
				p.pos++
				continue
			}
			return nil
		}
		r, n := utf8.DecodeRune(p.src[p.pos:])
		if !isSpace(r) {
			return nil
		}
		p.st.json5 = true
		p.pos += n
	}
	return nil
}

func (p *parser) value(parent *node) (*node, error) {
	if p.pos >= len(p.src) {
		return nil, p.errf(p.pos, "unexpected end of input, want a value")
	}
	switch c := p.src[p.pos]; {
	case c == '{':
		return p.object(parent)
	case c == '[':
		return p.array(parent)
	case c == '"' || c == '\'':
		start := p.pos
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		if c == '"' {
			p.st.dquoteStrings++
		} else {
			p.st.squoteStrings++
			p.st.json5 = true
		}
		return &node{kind: kindString, start: start, end: p.pos, parent: parent, str: s}, nil
	case c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9') || c == 'I' || c == 'N':
		start := p.pos
		f, err := p.number()
		if err != nil {
			return nil, err
		}
		return &node{kind: kindNumber, start: start, end: p.pos, parent: parent, num: f}, nil
	}
	for _, lit := range []struct {
		word string
		kind nodeKind
		b    bool
	}{{"true", kindBool, true}, {"false", kindBool, false}, {"null", kindNull, false}} {
		if p.hasWord(lit.word) {
			start := p.pos
			p.pos += len(lit.word)
			return &node{kind: lit.kind, start: start, end: p.pos, parent: parent, b: lit.b}, nil
		}
	}
	return nil, p.errf(p.pos, "unexpected %s, want a value", p.describe(p.pos))
}

// hasWord reports whether the literal word starts at pos and is not the prefix of a longer identifier.
func (p *parser) hasWord(w string) bool {
	if !bytes.HasPrefix(p.src[p.pos:], []byte(w)) {
		return false
	}
	if end := p.pos + len(w); end < len(p.src) {
		r, _ := utf8.DecodeRune(p.src[end:])
		if isIDPart(r) || r == '\\' {
			return false
		}
	}
	return true
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return p.errf(p.pos, "nesting deeper than %d", maxDepth)
	}
	return nil
}

func (p *parser) object(parent *node) (*node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	n := &node{kind: kindObject, start: p.pos, parent: parent}
	p.pos++ // '{'
	for {
		if err := p.skipSpace(); err != nil {
			return nil, err
		}
		if p.pos >= len(p.src) {
			return nil, p.errf(p.pos, "unterminated object")
		}
		if p.src[p.pos] == '}' {
			p.pos++
			n.end = p.pos
			p.noteContainer(n)
			return n, nil
		}
		if len(n.members) > 0 && n.members[len(n.members)-1].comma < 0 {
			return nil, p.errf(p.pos, "unexpected %s, want ',' or '}'", p.describe(p.pos))
		}
		m := member{comma: -1, keyStart: p.pos}
		switch c := p.src[p.pos]; c {
		case '"', '\'':
			k, err := p.str()
			if err != nil {
				return nil, err
			}
			m.key, m.keyQuote = k, c
			if c == '"' {
				p.st.dquoteKeys++
			} else {
				p.st.squoteKeys++
				p.st.json5 = true
			}
		default:
			k, err := p.ident()
			if err != nil {
				return nil, err
			}
			m.key = k
			p.st.unquotedKeys++
			p.st.json5 = true
		}
		if err := p.skipSpace(); err != nil {
			return nil, err
		}
		if p.pos >= len(p.src) || p.src[p.pos] != ':' {
			return nil, p.errf(p.pos, "unexpected %s, want ':' after key %q", p.describe(p.pos), m.key)
		}
		p.pos++
		if err := p.skipSpace(); err != nil {
			return nil, err
		}
		v, err := p.value(n)
		if err != nil {
			return nil, err
		}
		m.val = v
		if err := p.skipSpace(); err != nil {
			return nil, err
		}
		if p.pos < len(p.src) && p.src[p.pos] == ',' {
			m.comma = p.pos
			p.pos++
		}
		n.members = append(n.members, m)
	}
}

func (p *parser) array(parent *node) (*node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	n := &node{kind: kindArray, start: p.pos, parent: parent}
	p.pos++ // '['
	for {
		if err := p.skipSpace(); err != nil {
			return nil, err
		}
		if p.pos >= len(p.src) {
			return nil, p.errf(p.pos, "unterminated array")
		}
		if p.src[p.pos] == ']' {
			p.pos++
			n.end = p.pos
			p.noteContainer(n)
			return n, nil
		}
		if len(n.members) > 0 && n.members[len(n.members)-1].comma < 0 {
			return nil, p.errf(p.pos, "unexpected %s, want ',' or ']'", p.describe(p.pos))
		}
		m := member{comma: -1, keyStart: p.pos}
		v, err := p.value(n)
		if err != nil {
			return nil, err
		}
		m.val = v
		if err := p.skipSpace(); err != nil {
			return nil, err
		}
		if p.pos < len(p.src) && p.src[p.pos] == ',' {
			m.comma = p.pos
			p.pos++
		}
		n.members = append(n.members, m)
	}
}

// noteContainer records style facts about a finished container.
func (p *parser) noteContainer(n *node) {
	if len(n.members) == 0 {
		return
	}
	multi := multiline(p.src, n)
	last := n.members[len(n.members)-1]
	if last.comma >= 0 {
		p.st.json5 = true
	}
	if multi {
		if last.comma >= 0 {
			p.st.trailingComma++
		} else {
			p.st.noTrailing++
		}
		// The root's indentation is the most telling; else the first container that shows one.
		if !p.st.unitFound || n.parent == nil {
			outer := lineIndent(p.src, n.start)
			inner, ok := ownLineIndent(p.src, n.members[0].keyStart)
			if ok && len(inner) > len(outer) && strings.HasPrefix(inner, outer) {
				p.st.unit = inner[len(outer):]
				p.st.unitFound = true
			}
		}
	}
	if n.kind == kindArray {
		scalar := true
		for _, m := range n.members {
			if m.val.kind == kindObject || m.val.kind == kindArray {
				scalar = false
				break
			}
		}
		if scalar {
			if multi {
				p.st.multiScalarA++
			} else {
				p.st.inlineScalarA++
			}
		}
	}
}

// str scans a quoted string at pos and returns its value.
func (p *parser) str() (string, error) {
	q := p.src[p.pos]
	start := p.pos
	p.pos++
	var b strings.Builder
	for {
		if p.pos >= len(p.src) {
			return "", p.errf(start, "unterminated string")
		}
		c := p.src[p.pos]
		switch {
		case c == q:
			p.pos++
			return b.String(), nil
		case c == '\\':
			if err := p.escape(&b); err != nil {
				return "", err
			}
		case c == '\n' || c == '\r':
			return "", p.errf(p.pos, "line break inside a string (escape it as \\n)")
		case c < utf8.RuneSelf:
			if c < 0x20 {
				p.st.json5 = true // JSON forbids raw control characters in strings
			}
			b.WriteByte(c)
			p.pos++
		default:
			r, n := utf8.DecodeRune(p.src[p.pos:])
			b.WriteRune(r)
			p.pos += n
		}
	}
}

// escape decodes one escape sequence at pos ('\\').
func (p *parser) escape(b *strings.Builder) error {
	at := p.pos
	p.pos++
	if p.pos >= len(p.src) {
		return p.errf(at, "unterminated string")
	}
	c := p.src[p.pos]
	p.pos++
	switch c {
	case '"', '\\', '/':
		b.WriteByte(c)
	case 'b':
		b.WriteByte('\b')
	case 'f':
		b.WriteByte('\f')
	case 'n':
		b.WriteByte('\n')
	case 'r':
		b.WriteByte('\r')
	case 't':
		b.WriteByte('\t')
	case 'u':
		r, err := p.hex4(at)
		if err != nil {
			return err
		}
		if utf16IsHigh(r) && p.pos+1 < len(p.src) && p.src[p.pos] == '\\' && p.src[p.pos+1] == 'u' {
			save := p.pos
			p.pos += 2
			lo, err := p.hex4(at)
			if err == nil && utf16IsLow(lo) {
				b.WriteRune(0x10000 + (r-0xD800)<<10 + (lo - 0xDC00))
				return nil
			}
			p.pos = save
		}
		// A lone surrogate cannot live in a Go string; it decodes as U+FFFD.
		b.WriteRune(r)
	default:
		p.st.json5 = true
		switch c {
		case '\'':
			b.WriteByte('\'')
		case 'v':
			b.WriteByte('\v')
		case '0':
			if p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '9' {
				return p.errf(at, "octal escape in string")
			}
			b.WriteByte(0)
		case '1', '2', '3', '4', '5', '6', '7', '8', '9':
			return p.errf(at, "invalid escape \\%c", c)
		case 'x':
			v := 0
			for i := 0; i < 2; i++ {
				if p.pos >= len(p.src) || hexVal(p.src[p.pos]) < 0 {
					return p.errf(at, "bad \\x escape")
				}
				v = v<<4 | hexVal(p.src[p.pos])
				p.pos++
			}
			b.WriteRune(rune(v))
		case '\r':
			if p.pos < len(p.src) && p.src[p.pos] == '\n' {
				p.pos++
			}
		case '\n':
			// line continuation
		default:
			p.pos--
			r, n := utf8.DecodeRune(p.src[p.pos:])
			p.pos += n
			if r == 0x2028 || r == 0x2029 {
				return nil // line continuation
			}
			b.WriteRune(r)
		}
	}
	return nil
}

func (p *parser) hex4(at int) (rune, error) {
	if p.pos+4 > len(p.src) {
		return 0, p.errf(at, "bad \\u escape")
	}
	var r rune
	for i := 0; i < 4; i++ {
		h := hexVal(p.src[p.pos+i])
		if h < 0 {
			return 0, p.errf(at, "bad \\u escape")
		}
		r = r<<4 | rune(h)
	}
	p.pos += 4
	return r, nil
}

func utf16IsHigh(r rune) bool { return r >= 0xD800 && r < 0xDC00 }
func utf16IsLow(r rune) bool  { return r >= 0xDC00 && r < 0xE000 }

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// ident scans an ECMAScript 5 IdentifierName (with \uXXXX escapes) used as a key.
func (p *parser) ident() (string, error) {
	start := p.pos
	var b strings.Builder
	for first := true; p.pos < len(p.src); first = false {
		r, n := utf8.DecodeRune(p.src[p.pos:])
		if r == '\\' {
			if p.pos+1 >= len(p.src) || p.src[p.pos+1] != 'u' {
				return "", p.errf(p.pos, "bad escape in key")
			}
			p.pos += 2
			e, err := p.hex4(p.pos - 2)
			if err != nil {
				return "", err
			}
			if (first && !isIDStart(e)) || (!first && !isIDPart(e)) {
				return "", p.errf(p.pos-6, "escaped character not allowed in a key")
			}
			b.WriteRune(e)
			continue
		}
		if (first && !isIDStart(r)) || (!first && !isIDPart(r)) {
			if first {
				return "", p.errf(start, "unexpected %s, want a key", p.describe(start))
			}
			break
		}
		b.WriteRune(r)
		p.pos += n
	}
	if p.pos == start {
		return "", p.errf(start, "unexpected end of input, want a key")
	}
	return b.String(), nil
}

func isIDStart(r rune) bool {
	if r < utf8.RuneSelf {
		return r == '$' || r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
	}
	return unicode.In(r, unicode.Lu, unicode.Ll, unicode.Lt, unicode.Lm, unicode.Lo, unicode.Nl)
}

func isIDPart(r rune) bool {
	if isIDStart(r) {
		return true
	}
	if r < utf8.RuneSelf {
		return r >= '0' && r <= '9'
	}
	return r == 0x200C || r == 0x200D || unicode.In(r, unicode.Mn, unicode.Mc, unicode.Nd, unicode.Pc)
}

// number scans a JSON5 number.
func (p *parser) number() (float64, error) {
	start := p.pos
	neg := false
	if c := p.src[p.pos]; c == '+' || c == '-' {
		neg = c == '-'
		if c == '+' {
			p.st.json5 = true
		}
		p.pos++
	}
	sign := 1.0
	if neg {
		sign = -1
	}
	if p.pos >= len(p.src) {
		return 0, p.errf(start, "bad number")
	}
	switch {
	case p.hasWord("Infinity"):
		p.pos += len("Infinity")
		p.st.json5 = true
		return math.Inf(int(sign)), nil
	case p.hasWord("NaN"):
		p.pos += len("NaN")
		p.st.json5 = true
		return math.NaN(), nil
	}
	c := p.src[p.pos]
	if c == '0' && p.pos+1 < len(p.src) && (p.src[p.pos+1] == 'x' || p.src[p.pos+1] == 'X') {
		p.pos += 2
		ds := p.pos
		for p.pos < len(p.src) && hexVal(p.src[p.pos]) >= 0 {
			p.pos++
		}
		if p.pos == ds {
			return 0, p.errf(start, "bad hex number")
		}
		if err := p.numberEnd(start); err != nil {
			return 0, err
		}
		p.st.json5 = true
		f, err := strconv.ParseFloat("0x"+string(p.src[ds:p.pos])+"p0", 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return 0, p.errf(start, "bad hex number")
		}
		return sign * f, nil
	}
	intDigits := p.digits()
	if intDigits > 1 && p.src[p.pos-intDigits] == '0' {
		return 0, p.errf(start, "leading zero in number")
	}
	fracDigits := -1
	if p.pos < len(p.src) && p.src[p.pos] == '.' {
		p.pos++
		fracDigits = p.digits()
		if intDigits == 0 || fracDigits == 0 {
			p.st.json5 = true
		}
	}
	if intDigits == 0 && fracDigits <= 0 {
		return 0, p.errf(start, "bad number")
	}
	if p.pos < len(p.src) && (p.src[p.pos] == 'e' || p.src[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.src) && (p.src[p.pos] == '+' || p.src[p.pos] == '-') {
			p.pos++
		}
		if p.digits() == 0 {
			return 0, p.errf(start, "bad exponent")
		}
	}
	if err := p.numberEnd(start); err != nil {
		return 0, err
	}
	text := string(p.src[start:p.pos])
	if text[0] == '+' {
		text = text[1:]
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, p.errf(start, "bad number %q", text)
	}
	return f, nil
}

func (p *parser) digits() int {
	s := p.pos
	for p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '9' {
		p.pos++
	}
	return p.pos - s
}

// numberEnd rejects a number glued to a letter or digit ("1a", "0x1g", "01").
func (p *parser) numberEnd(start int) error {
	if p.pos < len(p.src) {
		r, _ := utf8.DecodeRune(p.src[p.pos:])
		if isIDPart(r) || r == '\\' || r == '.' {
			return p.errf(start, "bad number")
		}
	}
	return nil
}

// Package openclaw finds, reads, watches and edits OpenClaw's config file (openclaw.json, JSON5).
// Edits are surgical: a Doc keeps the file's bytes and the span of every key and value, so an edit
// rewrites only the values Clawgate owns and leaves comments, formatting, meta and unknown keys as
// they were. OpenClaw refuses to start on an unknown key, and rewrites hand-made files as plain
// JSON whenever it saves, so both kinds of file must survive our edits byte for byte elsewhere.
package openclaw

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Doc is a parsed config file that can be edited in place. It is not safe for concurrent use.
type Doc struct {
	src  []byte
	root *node
	st   style
}

// style is how new text is written so that it looks like the file's own.
type style struct {
	json          bool // the file is plain JSON (e.g. written by OpenClaw): emit nothing JSON5-only
	quoteKeys     bool
	keyQuote      byte
	strQuote      byte
	trailingComma bool
	expandArrays  bool // arrays of scalars go one element per line, as JSON.stringify does
	unit          string
	nl            string
}

func styleOf(s *stats) style {
	st := style{json: !s.json5, keyQuote: '"', strQuote: '"', unit: "  ", nl: "\n"}
	if s.unitFound {
		st.unit = s.unit
	}
	if s.crlf {
		st.nl = "\r\n"
	}
	st.quoteKeys = st.json || s.dquoteKeys+s.squoteKeys >= s.unquotedKeys
	if !st.json {
		if s.squoteKeys > s.dquoteKeys {
			st.keyQuote = '\''
		}
		if s.squoteStrings > s.dquoteStrings {
			st.strQuote = '\''
		}
		st.trailingComma = s.trailingComma > s.noTrailing
	}
	if s.multiScalarA+s.inlineScalarA == 0 {
		st.expandArrays = st.json
	} else {
		st.expandArrays = s.multiScalarA > s.inlineScalarA
	}
	return st
}

// Parse reads a config file. The top level must be an object.
func Parse(data []byte) (*Doc, error) {
	src := bytes.Clone(data)
	root, st, err := parse(src)
	if err != nil {
		return nil, err
	}
	return &Doc{src: src, root: root, st: styleOf(st)}, nil
}

// New returns an empty config ("{}\n"), for a user who has no file yet. Edits expand it the way
// OpenClaw writes files: plain JSON, two-space indent.
func New() *Doc {
	d, err := Parse([]byte("{}\n"))
	if err != nil {
		panic(err) // cannot happen: a constant
	}
	return d
}

// Bytes returns the file's current bytes.
func (d *Doc) Bytes() []byte { return bytes.Clone(d.src) }

// Value returns the file as plain Go values (map[string]any, []any, string, float64, bool, nil),
// as JSON5.parse would see it: a repeated key takes its last value.
func (d *Doc) Value() map[string]any { return decode(d.root).(map[string]any) }

// JSON reports whether the file is plain JSON (no comments, unquoted keys or other JSON5 syntax).
// Edits to such a file stay plain JSON.
func (d *Doc) JSON() bool { return d.st.json }

// Object is an object value whose members keep their order when written. Maps are written with
// sorted keys.
type Object []Field

// Field is one member of an Object.
type Field struct {
	Key   string
	Value any
}

// ErrPath is wrapped when a path runs through a value that is not an object (or an array, for an
// index), or an index is out of range.
var ErrPath = errors.New("bad path")

// Get returns the value at path (object keys, or decimal indexes into arrays).
func (d *Doc) Get(path []string) (any, bool) {
	n, _, err := d.find(path)
	if err != nil || n == nil {
		return nil, false
	}
	return decode(n), true
}

// Set writes value at path. An existing value is replaced in place (nothing changes when it is
// already equal); a missing member is inserted with its missing parent objects, indented like its
// siblings. Values: nil, bool, string, numbers, slices, map[string]any, Object.
func (d *Doc) Set(path []string, value any) error {
	_, err := d.set(path, value)
	return err
}

// Delete removes the member (or array element) at path with its line. A missing path is not an error.
func (d *Doc) Delete(path []string) error {
	_, err := d.del(path)
	return err
}

// Append adds value at the end of the array at path, creating the array if it is missing.
func (d *Doc) Append(path []string, value any) error {
	_, err := d.appendTo(path, value)
	return err
}

func pathString(path []string) string {
	if len(path) == 0 {
		return "(root)"
	}
	return strings.Join(path, ".")
}

// find walks path. It returns the node at path, or (nil, deepest existing container, nil) with
// the container at path[:depth] when a member is missing.
func (d *Doc) find(path []string) (n *node, depth int, err error) {
	n = d.root
	for i, seg := range path {
		switch n.kind {
		case kindObject:
			j := lastKey(n, seg)
			if j < 0 {
				return nil, i, nil
			}
			n = n.members[j].val
		case kindArray:
			j, ok := index(seg, len(n.members))
			if !ok {
				return nil, i, fmt.Errorf("%w: %s: no element %q in an array of %d", ErrPath, pathString(path[:i]), seg, len(n.members))
			}
			n = n.members[j].val
		default:
			return nil, i, fmt.Errorf("%w: %s is not an object", ErrPath, pathString(path[:i]))
		}
	}
	return n, len(path), nil
}

// container returns the node at path[:depth] (find's second result).
func (d *Doc) container(path []string, depth int) *node {
	n, _, _ := d.find(path[:depth])
	return n
}

func lastKey(n *node, key string) int {
	for j := len(n.members) - 1; j >= 0; j-- {
		if n.members[j].key == key {
			return j
		}
	}
	return -1
}

func index(seg string, n int) (int, bool) {
	if seg == "" || len(seg) > 9 || (len(seg) > 1 && seg[0] == '0') {
		return 0, false
	}
	j, err := strconv.Atoi(seg)
	if err != nil || j < 0 || j >= n {
		return 0, false
	}
	return j, true
}

func (d *Doc) set(path []string, value any) (bool, error) {
	if len(path) == 0 {
		return false, fmt.Errorf("%w: cannot replace the whole file", ErrPath)
	}
	v, err := canon(value)
	if err != nil {
		return false, fmt.Errorf("%s: %w", pathString(path), err)
	}
	for _, seg := range path {
		if !utf8.ValidString(seg) {
			return false, fmt.Errorf("%w: key is not valid UTF-8", ErrPath)
		}
	}
	n, depth, err := d.find(path)
	if err != nil {
		return false, err
	}
	if n != nil {
		if equal(decode(n), plain(v)) {
			return false, nil
		}
		return true, d.apply(d.replace(n, v))
	}
	c := d.container(path, depth)
	for j := len(path) - 1; j > depth; j-- {
		v = Object{{Key: path[j], Value: v}}
	}
	return true, d.apply(d.insert(c, path[depth], v))
}

func (d *Doc) appendTo(path []string, value any) (bool, error) {
	v, err := canon(value)
	if err != nil {
		return false, fmt.Errorf("%s: %w", pathString(path), err)
	}
	n, _, err := d.find(path)
	if err != nil {
		return false, err
	}
	if n == nil {
		return d.set(path, []any{v})
	}
	if n.kind != kindArray {
		return false, fmt.Errorf("%w: %s is not an array", ErrPath, pathString(path))
	}
	return true, d.apply(d.insert(n, "", v))
}

func (d *Doc) del(path []string) (bool, error) {
	if len(path) == 0 {
		return false, fmt.Errorf("%w: cannot delete the whole file", ErrPath)
	}
	changed := false
	for {
		n, _, err := d.find(path)
		if err != nil {
			return changed, nil // the path runs through a scalar or past an array: nothing there
		}
		if n == nil {
			return changed, nil
		}
		c := n.parent
		i := 0
		for i = range c.members {
			if c.members[i].val == n {
				break
			}
		}
		if err := d.apply(d.remove(c, i)); err != nil {
			return changed, err
		}
		changed = true
		if c.kind == kindArray {
			return true, nil
		}
		// Loop: an earlier duplicate of the key may now be the visible one.
	}
}

package openclaw

// OpenClaw's $include: an object whose "$include" names a file (or files) takes that file's
// content, deep-merged under its own sibling keys. Clawgate reads through includes to learn what
// OpenClaw will really use, and edits a setting in the file that holds it.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
)

const includeKey = "$include"

// maxIncludeDepth is how deep includes nest before OpenClaw gives up.
const maxIncludeDepth = 10

// Tree is a config with its $include files: the main file's Doc and every included file read.
type Tree struct {
	Path string
	Doc  *Doc
	// Files are the included files by absolute path; Originals their bytes as read.
	Files     map[string]*Doc
	Originals map[string][]byte
}

// NewTree reads the files d (at path) includes. A missing or broken include is an error, as
// OpenClaw refuses such a config too.
func NewTree(path string, d *Doc) (*Tree, error) {
	t := &Tree{Path: path, Doc: d, Files: map[string]*Doc{}, Originals: map[string][]byte{}}
	return t, t.load(d.Value(), filepath.Dir(abs(path)), 0)
}

func (t *Tree) load(v any, dir string, depth int) error {
	switch v := v.(type) {
	case map[string]any:
		for _, f := range includeFiles(v, dir) {
			if depth >= maxIncludeDepth {
				return fmt.Errorf("openclaw: $include nested deeper than %d levels at %s", maxIncludeDepth, f)
			}
			if _, seen := t.Files[f]; seen {
				continue
			}
			raw, err := os.ReadFile(f)
			if err != nil {
				return fmt.Errorf("openclaw: $include: %w", err)
			}
			d, err := Parse(raw)
			if err != nil {
				return fmt.Errorf("openclaw: $include %s: %w", f, err)
			}
			t.Files[f], t.Originals[f] = d, raw
			if err := t.load(d.Value(), filepath.Dir(f), depth+1); err != nil {
				return err
			}
		}
		for k, e := range v {
			if k != includeKey {
				if err := t.load(e, dir, depth); err != nil {
					return err
				}
			}
		}
	case []any:
		for _, e := range v {
			if err := t.load(e, dir, depth); err != nil {
				return err
			}
		}
	}
	return nil
}

// includeFiles lists the files an object includes, in merge order, as absolute paths.
func includeFiles(obj map[string]any, dir string) []string {
	var names []string
	switch inc := obj[includeKey].(type) {
	case string:
		names = []string{inc}
	case []any:
		for _, e := range inc {
			if s, ok := e.(string); ok {
				names = append(names, s)
			}
		}
	}
	out := make([]string, 0, len(names))
	for _, n := range names {
		if !filepath.IsAbs(n) {
			n = filepath.Join(dir, n)
		}
		out = append(out, filepath.Clean(n))
	}
	return out
}

// Value is the config as OpenClaw sees it: every $include resolved, siblings merged over it.
func (t *Tree) Value() map[string]any {
	v, _ := t.resolve(t.Doc.Value(), filepath.Dir(abs(t.Path)), 0).(map[string]any)
	if v == nil {
		v = map[string]any{}
	}
	return v
}

func (t *Tree) resolve(v any, dir string, depth int) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		if _, has := v[includeKey]; has && depth < maxIncludeDepth {
			for _, f := range includeFiles(v, dir) {
				if d := t.Files[f]; d != nil {
					if inc, ok := t.resolve(d.Value(), filepath.Dir(f), depth+1).(map[string]any); ok {
						out = deepMerge(out, inc)
					}
				}
			}
		}
		rest := map[string]any{}
		for k, e := range v {
			if k != includeKey {
				rest[k] = t.resolve(e, dir, depth)
			}
		}
		return deepMerge(out, rest)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = t.resolve(e, dir, depth)
		}
		return out
	}
	return v
}

// deepMerge merges over into base: objects key by key, anything else replaced.
func deepMerge(base, over map[string]any) map[string]any {
	out := make(map[string]any, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		if bm, ok := out[k].(map[string]any); ok {
			if om, ok := v.(map[string]any); ok {
				out[k] = deepMerge(bm, om)
				continue
			}
		}
		out[k] = v
	}
	return out
}

// layer is one file's part of a logical object: the value there and its path in that file.
type layer struct {
	file  string
	doc   *Doc
	val   any
	inner []string
}

// expand lists the layers a value stands for: the files it includes (in merge order, each
// expanded in turn), then the value itself, whose sibling keys are merged last.
func (t *Tree) expand(l layer, depth int) []layer {
	obj, ok := l.val.(map[string]any)
	if !ok || depth >= maxIncludeDepth {
		return []layer{l}
	}
	var out []layer
	for _, f := range includeFiles(obj, filepath.Dir(l.file)) {
		if d := t.Files[f]; d != nil {
			out = append(out, t.expand(layer{f, d, d.Value(), nil}, depth+1)...)
		}
	}
	return append(out, l)
}

// Owner finds the file that holds the setting at path (object keys, array indexes as numbers)
// and the path inside that file: of the files whose content is merged into a place (the includes,
// then the object's own sibling keys), the last one that sets it, as that one wins. A setting
// nobody holds yet goes where its nearest existing parent's winning layer is.
func (t *Tree) Owner(path []string) (file string, doc *Doc, inner []string) {
	layers := t.expand(layer{abs(t.Path), t.Doc, t.Doc.Value(), nil}, 0)
	for i, k := range path {
		var next []layer
		for _, l := range layers {
			var e any
			found := false
			switch v := l.val.(type) {
			case map[string]any:
				e, found = v[k]
			case []any:
				if idx, err := strconv.Atoi(k); err == nil && idx >= 0 && idx < len(v) {
					e, found = v[idx], true
				}
			}
			if found {
				next = append(next, t.expand(layer{l.file, l.doc, e, append(cloneStrings(l.inner), k)}, 0)...)
			}
		}
		if len(next) == 0 {
			last := layers[len(layers)-1]
			return last.file, last.doc, append(last.inner, path[i:]...)
		}
		// Only objects merge: anything else is wholly the last layer's.
		if _, isObj := next[len(next)-1].val.(map[string]any); !isObj {
			next = next[len(next)-1:]
		}
		layers = next
	}
	last := layers[len(layers)-1]
	return last.file, last.doc, last.inner
}

// Write saves every included file that was edited, the careful way (see Write), and returns the
// ones written. The main file is the caller's business.
func (t *Tree) Write(backupDir string) ([]string, error) {
	var wrote []string
	var errs []error
	for f, d := range t.Files {
		changed, err := Write(f, t.Originals[f], d, backupDir)
		if err != nil {
			errs = append(errs, err)
		}
		if changed {
			wrote = append(wrote, f)
		}
	}
	slices.Sort(wrote)
	return wrote, errors.Join(errs...)
}

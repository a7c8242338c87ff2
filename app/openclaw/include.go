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

// Owner finds the file that holds the setting at path (object keys, array indexes as numbers)
// and the path inside that file: the main file unless an object on the way includes a file that
// sets the key and no sibling overrides it (of several includes, the last one that sets it).
// A setting nobody holds yet belongs where its nearest existing parent lives.
func (t *Tree) Owner(path []string) (file string, doc *Doc, inner []string) {
	file, doc = abs(t.Path), t.Doc
	cur := any(doc.Value())
	for i, k := range path {
		obj, ok := cur.(map[string]any)
		if !ok {
			if arr, isArr := cur.([]any); isArr {
				var idx int
				if _, err := fmt.Sscan(k, &idx); err == nil && idx >= 0 && idx < len(arr) {
					inner, cur = append(inner, k), arr[idx]
					continue
				}
			}
			return file, doc, append(inner, path[i:]...)
		}
		if _, sibling := obj[k]; !sibling {
			if f, d, ok := t.includeHolding(obj, filepath.Dir(file), k); ok {
				file, doc, inner = f, d, nil
				obj = d.Value()
			}
		}
		next, ok := obj[k]
		if !ok {
			return file, doc, append(inner, path[i:]...)
		}
		inner, cur = append(inner, k), next
	}
	return file, doc, inner
}

// includeHolding returns the last file obj includes whose top level sets key (through its own
// includes too).
func (t *Tree) includeHolding(obj map[string]any, dir, key string) (string, *Doc, bool) {
	files := includeFiles(obj, dir)
	for _, f := range slices.Backward(files) {
		d := t.Files[f]
		if d == nil {
			continue
		}
		v := d.Value()
		if _, ok := v[key]; ok {
			return f, d, true
		}
		if f2, d2, ok := t.includeHolding(v, filepath.Dir(f), key); ok {
			return f2, d2, true
		}
	}
	return "", nil, false
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

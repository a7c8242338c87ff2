package openclaw

import (
	"bytes"
	"github.com/clawgate/clawgate/internal/fuzzstat"
	"strings"
	"testing"
)

// FuzzEdit generates a JSON5 document and an edit from the input, applies the edit with the Doc
// and with plain Go maps, and checks that the file parses to exactly the expected tree, that only
// the edited value's bytes changed, and that comments and plain-JSON style survive.
// Seeds: testdata/fuzz/FuzzEdit.
func FuzzEdit(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		checkEdit(t, data)
	})
}

func checkEdit(t *testing.T, data []byte) {
	t.Helper()
	g := &gen{data: data}
	src, want := g.doc()
	d, err := Parse([]byte(src))
	if err != nil {
		t.Fatalf("generated document does not parse: %v\n%s", err, src)
	}
	if !equal(any(d.Value()), any(want)) {
		t.Fatalf("parsed %#v\nwant %#v\n%s", d.Value(), want, src)
	}
	e := g.editFor(want)
	expected := deepCopy(want).(map[string]any)
	ok := applyPlain(expected, e)
	before := d.Bytes()
	oldNode, _, _ := d.find(e.path)

	err = do(d, e)
	after := d.Bytes()
	if !ok {
		if err == nil {
			t.Fatalf("%v: want an error\n%s", e, src)
		}
		if !bytes.Equal(before, after) {
			t.Fatalf("%v: failed but changed the file", e)
		}
		return
	}
	if err != nil {
		t.Fatalf("%v: %v\n%s", e, err, src)
	}
	re, err := Parse(after)
	if err != nil {
		t.Fatalf("%v: result does not parse: %v\n--- before\n%s\n--- after\n%s", e, err, src, after)
	}
	if !equal(any(re.Value()), any(expected)) {
		t.Fatalf("%v: tree mismatch\n got %#v\nwant %#v\n--- before\n%s\n--- after\n%s", e, re.Value(), expected, src, after)
	}
	if d.JSON() && !re.JSON() {
		t.Fatalf("%v: a plain JSON file gained JSON5 syntax\n--- before\n%s\n--- after\n%s", e, src, after)
	}
	switch {
	case bytes.Equal(before, after):
	case e.kind == "set" && oldNode != nil:
		// Only the value's bytes changed.
		if !bytes.HasPrefix(after, before[:oldNode.start]) || !bytes.HasSuffix(after, before[oldNode.end:]) {
			t.Fatalf("%v: bytes outside the value changed\n--- before\n%s\n--- after\n%s", e, src, after)
		}
	case e.kind == "set" || e.kind == "append":
		// Only insertions (and white space inside an empty container).
		if !subsequence(nonSpace(before), nonSpace(after)) {
			t.Fatalf("%v: an insertion removed bytes\n--- before\n%s\n--- after\n%s", e, src, after)
		}
	case e.kind == "delete":
		if !subsequence(nonSpace(after), nonSpace(before)) {
			t.Fatalf("%v: a deletion added bytes\n--- before\n%s\n--- after\n%s", e, src, after)
		}
		old, _ := Parse(before)
		lo, hi := removedRegion(old, oldNode)
		_, stOld, _ := parse(before)
		_, stNew, _ := parse(after)
		kept := 0
		for _, c := range stOld.comments {
			if c.end <= lo || c.start >= hi {
				kept++
			}
		}
		if len(stNew.comments) < kept {
			t.Fatalf("%v: a comment outside the deleted member vanished\n--- before\n%s\n--- after\n%s", e, src, after)
		}
	}
	// Sets and deletes of a key are idempotent: doing it again changes nothing.
	if e.kind == "set" || (e.kind == "delete" && (oldNode == nil || oldNode.parent.kind == kindObject)) {
		if err := do(d, e); err != nil {
			t.Fatalf("%v again: %v", e, err)
		}
		if !bytes.Equal(after, d.Bytes()) {
			t.Fatalf("%v again changed the file\n--- once\n%s\n--- twice\n%s", e, after, d.Bytes())
		}
	}
}

func do(d *Doc, e edit) error {
	switch e.kind {
	case "set":
		return d.Set(e.path, e.value)
	case "delete":
		return d.Delete(e.path)
	}
	return d.Append(e.path, e.value)
}

// removedRegion is where a delete of n (in doc d) may remove text: from the member's line (or,
// on one line, the previous value) to the end of its last line.
func removedRegion(d *Doc, n *node) (int, int) {
	if n == nil {
		return 0, 0
	}
	c := n.parent
	i := 0
	for i = range c.members {
		if c.members[i].val == n {
			break
		}
	}
	m := c.members[i]
	lo := lineStart(d.src, m.keyStart)
	if !d.multi(c) {
		lo = c.start
		if i > 0 {
			lo = c.members[i-1].val.end
		}
	}
	hi := m.val.end
	for hi < len(d.src) && d.src[hi] != '\n' && d.src[hi] != '\r' {
		hi++
	}
	// Duplicates of the key go too; be generous and allow anything after the first one.
	if c.kind == kindObject {
		for j := 0; j < i; j++ {
			if c.members[j].key == m.key {
				lo = min(lo, lineStart(d.src, c.members[j].keyStart), c.members[max(j-1, 0)].val.end)
			}
		}
	}
	return lo, hi
}

func nonSpace(b []byte) []byte {
	return bytes.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, b)
}

// subsequence reports whether a's bytes appear in b in order.
func subsequence(a, b []byte) bool {
	i := 0
	for j := 0; i < len(a) && j < len(b); j++ {
		if a[i] == b[j] {
			i++
		}
	}
	return i == len(a)
}

// FuzzParse feeds arbitrary bytes to the scanner: no panics, no hangs, and whatever parses
// survives a round trip through the renderer.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"{}", `{a:1}`, `{"a":[1,2,{b:'c'}],}`, "{/* x */}", "{a:0x1F,b:.5,c:5.,d:+Infinity,e:NaN}",
		"{a:'x\\\ny'}", "{\"\\u00e9\":\"\\uD83D\\uDE00\"}", "// c\n{}", "{a:1}/", "{\x00}", "{\xff}",
		strings.Repeat("[", 300), "{a:" + strings.Repeat("[", 250) + strings.Repeat("]", 250) + "}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse(data)
		if !fuzzstat.Reach(err == nil) {
			return
		}
		if !bytes.Equal(d.Bytes(), data) {
			t.Fatal("Bytes() is not the input")
		}
		v := d.Value()
		for _, base := range []*Doc{New(), mustParse(t, "{\n  // c\n  a: 1,\n}\n")} {
			c, err := canon(v)
			if err != nil {
				t.Fatalf("canon: %v", err)
			}
			for _, f := range c.(Object) {
				if err := base.Set([]string{f.Key}, f.Value); err != nil {
					t.Fatalf("Set %q: %v", f.Key, err)
				}
			}
			got := base.Value()
			delete(got, "a")
			want := deepCopy(v).(map[string]any)
			delete(want, "a")
			if !equal(any(got), any(want)) {
				t.Fatalf("round trip\n got %#v\nwant %#v\n%s", got, want, base.Bytes())
			}
		}
	})
}

func mustParse(t testing.TB, s string) *Doc {
	t.Helper()
	d, err := Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

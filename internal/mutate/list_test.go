package main

import (
	"errors"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseList(t *testing.T) {
	const list = `# a comment
[swap]
file: a/b.go
test: ./a ./c
why: tokens swapped
- x, y = n[0], n[1]
+ x, y = n[1], n[0]

[two-lines]
file: a/b.go
test: ./a
- case 1:
-	return f(1)
+ case 1:
+	return f(2)
`
	got, err := parseList(strings.NewReader(list))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d mutations, want 2", len(got))
	}
	a, b := got[0], got[1]
	if a.Name != "swap" || a.File != "a/b.go" || strings.Join(a.Packages, ",") != "./a,./c" || a.Why != "tokens swapped" ||
		a.Original != "x, y = n[0], n[1]" || a.Replacement != "x, y = n[1], n[0]" || a.Line != 2 {
		t.Errorf("first = %+v", a)
	}
	if b.Original != "case 1:\n\treturn f(1)" || b.Replacement != "case 1:\n\treturn f(2)" {
		t.Errorf("second: original %q, replacement %q", b.Original, b.Replacement)
	}
}

func TestParseListErrors(t *testing.T) {
	tests := []struct{ name, list, want string }{
		{"no file", "[a]\ntest: ./x\n- a\n+ b\n", "no file"},
		{"no test", "[a]\nfile: x.go\n- a\n+ b\n", "no test"},
		{"no original", "[a]\nfile: x.go\ntest: ./x\n+ b\n", "no - lines"},
		{"no change", "[a]\nfile: x.go\ntest: ./x\n- a\n+ a\n", "equals the original"},
		{"duplicate", "[a]\nfile: x.go\ntest: ./x\n- a\n+ b\n[a]\nfile: x.go\ntest: ./x\n- a\n+ c\n", "already defined on line 1"},
		{"unknown key", "[a]\nfiles: x.go\n", `unknown key "files"`},
		{"before a name", "file: x.go\n", "before the first [name]"},
		{"minus after plus", "[a]\nfile: x.go\ntest: ./x\n- a\n+ b\n- c\n", "after the + lines"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseList(strings.NewReader(tt.list))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to say %q", err, tt.want)
			}
		})
	}
}

func TestApply(t *testing.T) {
	const src = "package p\n\ntype T struct {\n\tA    int\n\tLong int\n}\n\nfunc f(n int) int {\n\tswitch n {\n\tcase 1:\n\t\treturn n + 1\n\tcase 2:\n\t\treturn n + 1\n\t}\n\treturn 0\n}\n"
	tests := []struct {
		name, orig, repl string
		want             string // a substring of the result
		err              string
	}{
		{"one line", "case 2:\nreturn n + 1", "case 2:\nreturn n + 2", "case 2:\nreturn n + 2\n\t}", ""},
		// gofmt aligns fields with spaces; the entry need not copy the alignment.
		{"realigned", "A int", "A uint", "\tA uint\n", ""},
		{"stale", "return n + 3", "return n", "", "no longer appears"},
		{"ambiguous", "return n + 1", "return n", "", "more than once"},
		// A token must match whole: "n +" is not "n+", and "A int" is not the end of "DATA int".
		{"tokens", "return n+1", "return n", "", "no longer appears"},
		{"word", "ong int", "ong uint", "", "no longer appears"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Mutation{Name: tt.name, File: "p.go", Original: tt.orig, Replacement: tt.repl}
			got, err := m.Apply([]byte(src))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want it to say %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(got), tt.want) {
				t.Errorf("result does not contain %q:\n%s", tt.want, got)
			}
			if strings.Count(string(got), "\n") < strings.Count(src, "\n")-2 {
				t.Errorf("result lost lines:\n%s", got)
			}
		})
	}
}

// TestListApplies keeps the committed list in step with the code: every entry must still name one
// place in its file, and the mutated file must still parse. (Whether it type-checks, and whether
// the tests catch it, is what make mutate finds out.)
func TestListApplies(t *testing.T) {
	root, _, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	muts, err := loadList(filepath.Join(root, "internal", "mutate", "mutations.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(muts) < 20 {
		t.Fatalf("only %d mutations in the list", len(muts))
	}
	for _, m := range muts {
		t.Run(m.Name, func(t *testing.T) {
			path := filepath.Join(root, filepath.FromSlash(m.File))
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			out, err := m.Apply(src)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := parser.ParseFile(token.NewFileSet(), path, out, parser.SkipObjectResolution); err != nil {
				t.Fatalf("the mutated file does not parse: %v", err)
			}
			for _, p := range m.Packages {
				if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(p))); err != nil {
					t.Errorf("test package %s: %v", p, err)
				}
			}
		})
	}
}

func TestClassify(t *testing.T) {
	exitErr := func() error {
		err := exec.Command("sh", "-c", "exit 1").Run()
		if err == nil {
			t.Fatal("sh exit 1 succeeded")
		}
		return err
	}()
	const mod = "github.com/clawgate/clawgate"
	tests := []struct {
		name   string
		out    string
		err    error
		want   Outcome
		wantBy string
		exact  bool
	}{
		{"passed", "ok  \tgithub.com/clawgate/clawgate/proxy\t1.2s\n", nil, Survived, "", true},
		{"test failed", "--- FAIL: TestRewrite (0.00s)\n    x_test.go:10: got a\nFAIL\nFAIL\tgithub.com/clawgate/clawgate/proxy\t1.0s\nFAIL\n",
			exitErr, Caught, "proxy: TestRewrite", true},
		{"subtest failed", "    --- FAIL: TestCost/cache (0.00s)\nFAIL\tgithub.com/clawgate/clawgate/proxy/pricing\t0.1s\n",
			exitErr, Caught, "proxy/pricing: TestCost/cache", true},
		{"panic", "panic: test timed out after 5m0s\n\trunning tests:\nFAIL\tgithub.com/clawgate/clawgate/app/store\t300s\n",
			exitErr, Caught, "app/store: panic: test timed out after 5m0s", true},
		{"build failed", "# github.com/clawgate/clawgate/proxy\nproxy/chat.go:1: undefined: x\nFAIL\tgithub.com/clawgate/clawgate/proxy [build failed]\n",
			exitErr, Broken, "does not build", false},
		{"no go", "", errors.New("exec: go: not found"), Broken, "did not run", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, by := classify(mod, []byte(tt.out), tt.err)
			if got != tt.want {
				t.Errorf("outcome = %v, want %v", got, tt.want)
			}
			if tt.exact && by != tt.wantBy || !tt.exact && !strings.Contains(by, tt.wantBy) {
				t.Errorf("by = %q, want %q", by, tt.wantBy)
			}
		})
	}
}

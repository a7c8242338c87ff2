package openclaw

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*/after.json5 and changes.txt")

// goldenOp is one step of testdata/golden/<case>/op.json.
type goldenOp struct {
	Op         string  `json:"op"` // connect, sync, use
	BaseURL    string  `json:"baseUrl"`
	APIKeyRef  string  `json:"apiKeyRef"`
	BearerAuth bool    `json:"bearerAuth"`
	Models     []Model `json:"models"`
	Model      string  `json:"model"`
}

func runOps(d *Doc, ops []goldenOp) ([]string, error) {
	var all []string
	for _, op := range ops {
		var lines []string
		var err error
		switch op.Op {
		case "connect":
			lines, err = Connect(d, ConnectOptions{BaseURL: op.BaseURL, APIKeyRef: op.APIKeyRef, BearerAuth: op.BearerAuth, Models: op.Models})
		case "sync":
			lines, err = Sync(d, op.Models)
		case "use":
			lines, err = Use(d, op.Model)
		default:
			err = fmt.Errorf("unknown op %q", op.Op)
		}
		all = append(all, lines...)
		if err != nil {
			return all, err
		}
	}
	return all, nil
}

// TestGolden applies each case's operations to before.json5 and compares with after.json5 and
// changes.txt. It also checks that every comment survives, that a plain JSON file stays plain
// JSON, and that running the operations again changes nothing.
func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/golden/*/op.json")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	for _, op := range dirs {
		dir := filepath.Dir(op)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			before, err := os.ReadFile(filepath.Join(dir, "before.json5"))
			if err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile(filepath.Join(dir, "op.json"))
			if err != nil {
				t.Fatal(err)
			}
			var spec struct{ Ops []goldenOp }
			if err := json.Unmarshal(raw, &spec); err != nil {
				t.Fatalf("op.json: %v", err)
			}
			d, err := Parse(before)
			if err != nil {
				t.Fatalf("before.json5: %v", err)
			}
			lines, err := runOps(d, spec.Ops)
			if err != nil {
				t.Fatalf("ops: %v", err)
			}
			after := d.Bytes()
			changes := strings.Join(lines, "\n") + "\n"
			if *update {
				if err := os.WriteFile(filepath.Join(dir, "after.json5"), after, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, "changes.txt"), []byte(changes), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			wantAfter, err := os.ReadFile(filepath.Join(dir, "after.json5"))
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if !bytes.Equal(after, wantAfter) {
				t.Errorf("after.json5 differs (run with -update to accept):\n--- got\n%s\n--- want\n%s", after, wantAfter)
			}
			wantChanges, err := os.ReadFile(filepath.Join(dir, "changes.txt"))
			if err != nil {
				t.Fatal(err)
			}
			if changes != string(wantChanges) {
				t.Errorf("changes.txt differs:\n--- got\n%s--- want\n%s", changes, wantChanges)
			}

			_, stBefore, _ := parse(before)
			for _, c := range stBefore.comments {
				if text := before[c.start:c.end]; bytes.Count(after, text) < bytes.Count(before, text) {
					t.Errorf("comment %q lost", text)
				}
			}
			re, err := Parse(after)
			if err != nil {
				t.Fatalf("after does not parse: %v", err)
			}
			if d.JSON() != re.JSON() {
				t.Errorf("JSON-ness changed: before %v, after %v", d.JSON(), re.JSON())
			}
			again, err := runOps(re, spec.Ops)
			if err != nil {
				t.Fatalf("ops again: %v", err)
			}
			if len(again) > 0 || !bytes.Equal(re.Bytes(), after) {
				t.Errorf("not idempotent: %q\n%s", again, re.Bytes())
			}
		})
	}
}

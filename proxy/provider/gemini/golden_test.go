package gemini

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clawgate/clawgate/proxy/provider/internal/testkit"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/ (then read the diff by eye)")

// fixedNow pins "created" so that golden files are stable.
var fixedNow = time.Unix(1764590200, 0)

// idSeq numbers generated ids, so that golden files are stable; resetIDs starts it over.
var idSeq atomic.Int64

func resetIDs() { idSeq.Store(0) }

func TestMain(m *testing.M) {
	now = func() time.Time { return fixedNow }
	newID = func() string { return fmt.Sprintf("%024d", idSeq.Add(1)) }
	os.Exit(m.Run())
}

// sameJSON compares two JSON texts as values.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("%v: %s", err, a)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return reflect.DeepEqual(va, vb)
}

// golden compares got with the file at path, or rewrites the file under -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	testkit.Golden(t, path, got, *update)
}

var (
	readFile = testkit.ReadFile
	indent   = testkit.Indent
	names    = testkit.Names
)

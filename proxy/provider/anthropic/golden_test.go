package anthropic

import (
	"flag"
	"os"
	"testing"
	"time"

	"github.com/clawgate/clawgate/proxy/provider/internal/testkit"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/ (then read the diff by eye)")

// fixedNow pins "created" so that golden files are stable.
var fixedNow = time.Unix(1764590200, 0)

func TestMain(m *testing.M) {
	now = func() time.Time { return fixedNow }
	os.Exit(m.Run())
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

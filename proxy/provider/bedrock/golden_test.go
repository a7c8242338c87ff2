package bedrock

import (
	"flag"
	"os"
	"testing"
	"time"

	"github.com/clawgate/clawgate/proxy/provider/internal/testkit"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/ (then read the diff by eye)")

// fixedNow pins "created" and the signing time so that golden files are stable.
var fixedNow = time.Date(2025, 12, 1, 11, 56, 40, 0, time.UTC)

const testID = "chatcmpl-test"

func TestMain(m *testing.M) {
	now = func() time.Time { return fixedNow }
	newID = func() string { return testID }
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

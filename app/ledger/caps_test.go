package ledger

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/app/store"
)

// dbSize is the database's size on disk, its write-ahead log included.
func dbSize(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	for _, suffix := range []string{"", "-wal"} {
		if fi, err := os.Stat(filepath.Join(dir, store.FileName+suffix)); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// TestOversizedUserCapped: any key may send a `user` of megabytes; what reaches the database is
// capped, so six 5 MB users grow it by kilobytes, not by 30 MB (49 MB before the caps).
func TestOversizedUserCapped(t *testing.T) {
	e := newEnv(t)
	key, token := e.generate(`{}`)
	e.flush()
	before := dbSize(t, e.dir)
	huge := strings.Repeat("u", 5<<20)
	body := strings.Replace(exactChat, `"model"`, `"user":"`+huge+`","model"`, 1)
	for i := range 6 {
		if r := e.chat(key, body); r.status != 200 {
			t.Fatalf("call %d: %d %s", i, r.status, r.body)
		}
	}
	e.flush()
	rows, n, err := e.l.Store().QuerySpendLogs(context.Background(), store.SpendQuery{APIKey: token})
	if err != nil || n != 6 {
		t.Fatalf("%d rows, %v", n, err)
	}
	for _, r := range rows {
		if len(r.EndUser) > 1024 || !strings.HasPrefix(r.EndUser, "uuuu") || !strings.Contains(r.EndUser, "cut") {
			t.Fatalf("end_user stored as %d bytes: %.60q", len(r.EndUser), r.EndUser)
		}
	}
	if grew := dbSize(t, e.dir) - before; grew > 1<<20 {
		t.Errorf("six calls with a 5 MB user grew the database by %d bytes", grew)
	}
}

package openclaw

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeClock makes now() step forward a second per call, so backup names differ and sort.
func fakeClock(t *testing.T) {
	t.Helper()
	base := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	n := 0
	now = func() time.Time { n++; return base.Add(time.Duration(n) * time.Second) }
	t.Cleanup(func() { now = time.Now })
}

func setup(t *testing.T, content string) (path string, original []byte, d *Doc, backups string) {
	t.Helper()
	dir := t.TempDir()
	path = filepath.Join(dir, ".openclaw", "openclaw.json")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	original, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, original, mustParse(t, content), filepath.Join(dir, "data", "backups")
}

const sample = "{\n  // mine\n  agents: { defaults: { model: 'openai/gpt-4o' } },\n}\n"

func TestWrite(t *testing.T) {
	fakeClock(t)
	path, original, d, backups := setup(t, sample)
	if _, err := Use(d, "gpt-4o-mini"); err != nil {
		t.Fatal(err)
	}
	changed, err := Write(path, original, d, backups)
	if err != nil || !changed {
		t.Fatalf("Write = %v, %v", changed, err)
	}
	got, _ := os.ReadFile(path)
	if !bytes.Equal(got, d.Bytes()) {
		t.Errorf("file is\n%s", got)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	if _, err := os.Stat(path + ".lock"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock left behind: %v", err)
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*tmp"))
	if len(left) > 0 {
		t.Errorf("temp files left: %v", left)
	}
	first, err := os.ReadFile(filepath.Join(backups, "openclaw_openclaw.json.first.bak"))
	if err != nil || !bytes.Equal(first, original) {
		t.Errorf("first backup = %q, %v", first, err)
	}
}

func TestWriteUnchanged(t *testing.T) {
	path, original, d, backups := setup(t, sample)
	// An edit that writes what is already there changes no byte.
	if err := d.Set([]string{"agents", "defaults", "model"}, "openai/gpt-4o"); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(path)
	changed, err := Write(path, original, d, backups)
	if err != nil || changed {
		t.Fatalf("Write = %v, %v; want no change", changed, err)
	}
	after, _ := os.Stat(path)
	if !after.ModTime().Equal(before.ModTime()) || after.Mode() != before.Mode() {
		t.Error("the file was touched")
	}
	if _, err := os.Stat(backups); !errors.Is(err, os.ErrNotExist) {
		t.Error("a backup was made for nothing")
	}
}

func TestWriteRefusesChangedOnDisk(t *testing.T) {
	path, original, d, backups := setup(t, sample)
	if _, err := Use(d, "gpt-4o-mini"); err != nil {
		t.Fatal(err)
	}
	theirs := strings.Replace(sample, "mine", "theirs", 1)
	if err := os.WriteFile(path, []byte(theirs), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(path, original, d, backups); !errors.Is(err, ErrChangedOnDisk) {
		t.Fatalf("err = %v, want ErrChangedOnDisk", err)
	}
	if got, _ := os.ReadFile(path); string(got) != theirs {
		t.Error("their change was overwritten")
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(path, original, d, backups); !errors.Is(err, ErrChangedOnDisk) {
		t.Fatalf("deleted: err = %v, want ErrChangedOnDisk", err)
	}
	// A nil original means "there was no file": creating one is fine, overwriting one is not.
	if changed, err := Write(path, nil, d, backups); err != nil || !changed {
		t.Fatalf("create: %v %v", changed, err)
	}
	if _, err := Write(path, nil, d, backups); !errors.Is(err, ErrChangedOnDisk) {
		t.Fatalf("create over an existing file: err = %v", err)
	}
}

func TestWriteLock(t *testing.T) {
	fakeClock(t)
	for _, tc := range []struct {
		name    string
		payload string
		age     time.Duration
		want    error
	}{
		{"fresh lock with createdAt", `{"pid": 123, "createdAt": "%s"}` + "\n\t\t\t\t\t\t\t\t \t \n", 5 * time.Second, ErrLocked},
		{"stale lock with createdAt", `{"pid": 123, "createdAt": "%s"}`, 31 * time.Second, nil},
		{"fresh lock, no payload", "", 5 * time.Second, ErrLocked},
		{"stale lock, no payload", "", 2 * time.Minute, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, original, d, backups := setup(t, sample)
			if _, err := Use(d, "gpt-4o-mini"); err != nil {
				t.Fatal(err)
			}
			created := now().Add(-tc.age)
			body := tc.payload
			if strings.Contains(body, "%s") {
				body = strings.Replace(body, "%s", created.UTC().Format(time.RFC3339Nano), 1)
			}
			lp := path + ".lock"
			if err := os.WriteFile(lp, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(lp, created, created); err != nil {
				t.Fatal(err)
			}
			_, err := Write(path, original, d, backups)
			if !errors.Is(err, tc.want) && !(tc.want == nil && err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			got, _ := os.ReadFile(path)
			if tc.want != nil {
				if !bytes.Equal(got, original) {
					t.Error("wrote while locked")
				}
				if _, err := os.Stat(lp); err != nil {
					t.Error("removed someone else's lock")
				}
			} else if !bytes.Equal(got, d.Bytes()) {
				t.Error("did not write past a stale lock")
			}
		})
	}
}

// TestWriteHoldsLock checks that the lock exists, in OpenClaw's format, while the file is replaced.
func TestWriteHoldsLock(t *testing.T) {
	path, _, _, _ := setup(t, sample)
	unlock, err := lock(path)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path + ".lock")
	if err != nil || !strings.Contains(string(raw), `"createdAt"`) || !strings.Contains(string(raw), `"pid"`) {
		t.Errorf("lock = %q, %v", raw, err)
	}
	if _, err := lock(path); !errors.Is(err, ErrLocked) {
		t.Errorf("second lock: %v", err)
	}
	unlock()
	if _, err := os.Stat(path + ".lock"); !errors.Is(err, os.ErrNotExist) {
		t.Error("unlock left the file")
	}
}

func TestBackupRotation(t *testing.T) {
	fakeClock(t)
	path, original, _, backups := setup(t, sample)
	cur := original
	for i := 0; i < 8; i++ {
		d := mustParse(t, string(cur))
		if err := d.Set([]string{"n"}, i); err != nil {
			t.Fatal(err)
		}
		if _, err := Write(path, cur, d, backups); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		cur = d.Bytes()
	}
	entries, _ := os.ReadDir(backups)
	var ring []string
	hasFirst := false
	for _, e := range entries {
		if e.Name() == "openclaw_openclaw.json.first.bak" {
			hasFirst = true
			continue
		}
		ring = append(ring, e.Name())
		fi, _ := e.Info()
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v", e.Name(), fi.Mode().Perm())
		}
	}
	if !hasFirst || len(ring) != Backups {
		t.Fatalf("backups = %v (first kept: %v), want %d rotated", ring, hasFirst, Backups)
	}
	// The newest backup holds the file as it was before the last write (n = 6).
	last, _ := os.ReadFile(filepath.Join(backups, ring[len(ring)-1]))
	if v := mustParse(t, string(last)).Value()["n"]; v != 6.0 {
		t.Errorf("newest backup has n = %v, want 6", v)
	}
	first, _ := os.ReadFile(filepath.Join(backups, "openclaw_openclaw.json.first.bak"))
	if !bytes.Equal(first, original) {
		t.Error("the first backup was rotated away")
	}
}

func TestWriteSymlink(t *testing.T) {
	path, original, d, backups := setup(t, sample)
	real := filepath.Join(t.TempDir(), "dotfiles", "openclaw.json")
	if err := os.MkdirAll(filepath.Dir(real), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path, real); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, path); err != nil {
		t.Fatal(err)
	}
	if _, err := Use(d, "gpt-4o-mini"); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(path, original, d, backups); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v %v", fi.Mode(), err)
	}
	if got, _ := os.ReadFile(real); !bytes.Equal(got, d.Bytes()) {
		t.Error("the target was not written")
	}
}

// TestWriteWaitsForLock: a lock that OpenClaw releases within LockWait delays the write; one it
// keeps fails it with ErrLocked once LockWait has passed.
func TestWriteWaitsForLock(t *testing.T) {
	for _, tc := range []struct {
		name    string
		release bool
		want    error
	}{
		{"released while waiting", true, nil},
		{"held throughout", false, ErrLocked},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old := LockWait
			LockWait = 3 * time.Second
			defer func() { LockWait = old }()
			path, original, d, backups := setup(t, sample)
			if _, err := Use(d, "gpt-4o-mini"); err != nil {
				t.Fatal(err)
			}
			lp := path + ".lock"
			if err := os.WriteFile(lp, []byte(`{"pid": 99999, "createdAt": "`+time.Now().UTC().Format(time.RFC3339Nano)+`"}`), 0o600); err != nil {
				t.Fatal(err)
			}
			released := make(chan struct{})
			if tc.release {
				// OpenClaw's hold: the length of a write, here a sixth of LockWait.
				time.AfterFunc(LockWait/6, func() { os.Remove(lp); close(released) })
			}
			start := time.Now()
			_, err := Write(path, original, d, backups)
			took := time.Since(start)
			if !errors.Is(err, tc.want) && !(tc.want == nil && err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			got, _ := os.ReadFile(path)
			if tc.release {
				<-released
				if !bytes.Equal(got, d.Bytes()) {
					t.Error("not written after the lock was released")
				}
				if took >= LockWait {
					t.Errorf("took %v, more than LockWait", took)
				}
			} else {
				if took < LockWait {
					t.Errorf("gave up after %v, before LockWait %v", took, LockWait)
				}
				if !bytes.Equal(got, original) {
					t.Error("wrote while locked")
				}
			}
		})
	}
}

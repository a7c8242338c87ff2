package openclaw

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

var (
	// ErrChangedOnDisk is returned by Write when the file is no longer what was read.
	ErrChangedOnDisk = errors.New("openclaw: the config changed on disk since it was read")
	// ErrLocked is returned by Write while another writer (OpenClaw) holds openclaw.json.lock.
	ErrLocked = errors.New("openclaw: the config is locked by another writer (openclaw.json.lock)")
)

// LockStale is how old a lock file may be before it is ignored, as in OpenClaw's file lock:
// the lock's createdAt when it has one, else its modification time.
const LockStale = 30 * time.Second

// Backups is how many rotated backups Write keeps per config file, besides the first one.
const Backups = 5

// now is the clock, for tests.
var now = time.Now

// own remembers the last bytes Write put in each file, so a Watcher can tell our writes from others'.
var own = struct {
	sync.Mutex
	m map[string][sha256.Size]byte
}{m: map[string][sha256.Size]byte{}}

func recordOwn(path string, data []byte) {
	own.Lock()
	defer own.Unlock()
	own.m[abs(path)] = sha256.Sum256(data)
}

func isOwn(path string, sum [sha256.Size]byte) bool {
	own.Lock()
	defer own.Unlock()
	got, ok := own.m[abs(path)]
	return ok && got == sum
}

func abs(path string) string {
	if a, err := filepath.Abs(path); err == nil {
		return a
	}
	return filepath.Clean(path)
}

// Write saves d over path the careful way:
//   - nothing is written when d's bytes equal original (changed is false);
//   - it refuses (ErrChangedOnDisk) when the file is no longer original (nil original: the file
//     must not exist), and (ErrLocked) when OpenClaw's openclaw.json.lock stays fresh for
//     LockWait;
//   - it holds that lock itself while writing, in OpenClaw's format, and removes it after;
//   - before changing anything it copies original to backupDir (the first backup is kept for
//     good, the last Backups are rotated);
//   - it writes a temp file (mode 0600) beside the target, syncs it, and renames it over; a
//     symlinked config has its target replaced, the link stays;
//   - it re-reads the result and checks that it parses to d's tree.
func Write(path string, original []byte, d *Doc, backupDir string) (changed bool, err error) {
	data := d.Bytes()
	if original != nil && bytes.Equal(data, original) {
		return false, nil
	}
	// d always holds parseable bytes; check anyway, the file must never pay for a bug here.
	check, err := Parse(data)
	if err != nil {
		return false, fmt.Errorf("openclaw: refusing to write a config that does not parse: %w", err)
	}
	if !equal(any(check.Value()), any(d.Value())) {
		return false, errors.New("openclaw: refusing to write: the bytes do not parse to the edited tree")
	}
	target, err := resolveTarget(path)
	if err != nil {
		return false, err
	}
	dir := filepath.Dir(target)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, fmt.Errorf("openclaw: %w", err)
	}
	unlock, err := lockWait(path)
	if err != nil {
		return false, err
	}
	defer unlock()

	disk, err := os.ReadFile(target)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if original != nil {
			return false, fmt.Errorf("%w: %s is gone", ErrChangedOnDisk, path)
		}
	case err != nil:
		return false, fmt.Errorf("openclaw: read %s: %w", target, err)
	case original == nil || !bytes.Equal(disk, original):
		return false, fmt.Errorf("%w: %s", ErrChangedOnDisk, path)
	}
	if original != nil && backupDir != "" {
		if err := backup(backupDir, path, original); err != nil {
			return false, err
		}
	}
	recordOwn(path, data)
	if target != abs(path) {
		recordOwn(target, data)
	}
	if err := atomicWrite(target, data); err != nil {
		return false, err
	}
	got, err := os.ReadFile(target)
	if err != nil {
		return true, fmt.Errorf("openclaw: re-read %s: %w", target, err)
	}
	if !bytes.Equal(got, data) {
		return true, fmt.Errorf("%w: %s was replaced right after our write", ErrChangedOnDisk, path)
	}
	return true, nil
}

// resolveTarget follows a symlinked config to the file it names.
func resolveTarget(path string) (string, error) {
	p := abs(path)
	fi, err := os.Lstat(p)
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		return p, nil
	}
	t, err := filepath.EvalSymlinks(p)
	if errors.Is(err, fs.ErrNotExist) {
		// A dangling link: write where it points.
		l, lerr := os.Readlink(p)
		if lerr != nil {
			return "", fmt.Errorf("openclaw: %w", lerr)
		}
		if !filepath.IsAbs(l) {
			l = filepath.Join(filepath.Dir(p), l)
		}
		return filepath.Clean(l), nil
	}
	if err != nil {
		return "", fmt.Errorf("openclaw: %w", err)
	}
	return t, nil
}

func atomicWrite(target string, data []byte) error {
	dir := filepath.Dir(target)
	f, err := os.CreateTemp(dir, "."+filepath.Base(target)+".clawgate-*.tmp")
	if err != nil {
		return fmt.Errorf("openclaw: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op after the rename
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("openclaw: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("openclaw: write %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("openclaw: sync %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("openclaw: %w", err)
	}
	if err := os.Rename(tmp, target); err != nil {
		return fmt.Errorf("openclaw: replace %s: %w", target, err)
	}
	if df, err := os.Open(dir); err == nil {
		_ = df.Sync() // make the rename durable; not fatal where unsupported
		df.Close()
	}
	return nil
}

// lockPath is where OpenClaw puts its lock: beside the config, in the real (symlink-free) folder.
func lockPath(path string) string {
	p := abs(path)
	dir := filepath.Dir(p)
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	return filepath.Join(dir, filepath.Base(p)+".lock")
}

type lockPayload struct {
	PID       int    `json:"pid"`
	CreatedAt string `json:"createdAt"`
}

// lock takes openclaw.json.lock the way OpenClaw does (exclusive create, {pid, createdAt}),
// treating a lock older than LockStale as abandoned.
func lock(path string) (unlock func(), err error) {
	lp := lockPath(path)
	for attempt := 0; attempt < 2; attempt++ {
		f, err := os.OpenFile(lp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			body, _ := json.MarshalIndent(lockPayload{PID: os.Getpid(), CreatedAt: now().UTC().Format("2006-01-02T15:04:05.000Z")}, "", "  ")
			_, werr := f.Write(append(body, '\n'))
			cerr := f.Close()
			if werr != nil || cerr != nil {
				os.Remove(lp)
				return nil, fmt.Errorf("openclaw: write lock %s: %w", lp, errors.Join(werr, cerr))
			}
			return func() { os.Remove(lp) }, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("openclaw: lock %s: %w", lp, err)
		}
		if !lockStale(lp) {
			return nil, ErrLocked
		}
		// Abandoned: remove it and try once more (someone may beat us to it: then it is held).
		if err := os.Remove(lp); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("openclaw: remove stale lock %s: %w", lp, err)
		}
	}
	return nil, ErrLocked
}

// LockWait is how long Write waits for OpenClaw to release openclaw.json.lock before it gives up
// with ErrLocked. OpenClaw holds it for the length of one write, well under a second.
var LockWait = 5 * time.Second

// lockWait takes the lock, retrying with a growing pause (25 ms up to 400 ms) while another
// writer holds it, for LockWait at most.
func lockWait(path string) (unlock func(), err error) {
	deadline := now().Add(LockWait)
	pause := 25 * time.Millisecond
	for {
		unlock, err := lock(path)
		if !errors.Is(err, ErrLocked) || !now().Before(deadline) {
			return unlock, err
		}
		time.Sleep(pause)
		pause = min(2*pause, 400*time.Millisecond)
	}
}

// lockStale applies OpenClaw's rule: the payload's createdAt if it parses, else the file's mtime.
func lockStale(lp string) bool {
	f, err := os.Open(lp)
	if err != nil {
		return errors.Is(err, fs.ErrNotExist)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	raw, _ := io.ReadAll(io.LimitReader(f, 64<<10))
	var p lockPayload
	// OpenClaw writes the JSON payload followed by an ownership token line; decode the first value.
	if json.NewDecoder(bytes.NewReader(raw)).Decode(&p) == nil {
		if t, err := time.Parse(time.RFC3339Nano, p.CreatedAt); err == nil {
			return now().Sub(t) > LockStale
		}
	}
	return now().Sub(fi.ModTime()) > LockStale
}

// backup copies data into dir as <name>.<UTC time>.bak, keeps the very first backup of each config
// as <name>.first.bak, and keeps only the newest Backups of the rest.
func backup(dir, path string, data []byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("openclaw: backup: %w", err)
	}
	name := backupName(path)
	first := filepath.Join(dir, name+".first.bak")
	if _, err := os.Stat(first); errors.Is(err, fs.ErrNotExist) {
		if err := os.WriteFile(first, data, 0o600); err != nil {
			return fmt.Errorf("openclaw: backup: %w", err)
		}
	}
	stamp := now().UTC().Format("20060102T150405.000000000Z")
	file := filepath.Join(dir, name+"."+stamp+".bak")
	for i := 1; ; i++ {
		if _, err := os.Lstat(file); errors.Is(err, fs.ErrNotExist) {
			break
		}
		file = filepath.Join(dir, fmt.Sprintf("%s.%s-%d.bak", name, stamp, i))
	}
	if err := os.WriteFile(file, data, 0o600); err != nil {
		return fmt.Errorf("openclaw: backup: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("openclaw: backup: %w", err)
	}
	var ring []string
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, name+".") && strings.HasSuffix(n, ".bak") && n != name+".first.bak" {
			ring = append(ring, n)
		}
	}
	sort.Strings(ring) // timestamps sort by time
	for len(ring) > Backups {
		if err := os.Remove(filepath.Join(dir, ring[0])); err != nil {
			return fmt.Errorf("openclaw: backup rotation: %w", err)
		}
		ring = ring[1:]
	}
	return nil
}

// backupName tells configs apart in one backup folder: ~/.openclaw-work/openclaw.json becomes
// "openclaw-work_openclaw.json".
func backupName(path string) string {
	p := abs(path)
	parent := strings.TrimLeft(filepath.Base(filepath.Dir(p)), ".")
	if parent == "" || parent == string(filepath.Separator) {
		parent = "root"
	}
	return parent + "_" + filepath.Base(p)
}

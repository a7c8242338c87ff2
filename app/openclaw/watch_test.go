package openclaw

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type watchRig struct {
	t       *testing.T
	path    string
	events  chan Event
	settled chan bool
	w       *Watcher
}

func newWatchRig(t *testing.T, content string) *watchRig {
	t.Helper()
	return newWatchRigAt(t, filepath.Join(t.TempDir(), "openclaw.json"), content)
}

// newWatchRigAt watches path, writing content there first unless it is empty.
func newWatchRigAt(t *testing.T, path, content string) *watchRig {
	t.Helper()
	r := &watchRig{t: t, path: path, events: make(chan Event, 16), settled: make(chan bool, 16)}
	if content != "" {
		r.write(content)
	}
	w, err := watch(r.path, "http://127.0.0.1:4000/v1", func(e Event) { r.events <- e }, func(b bool) { r.settled <- b })
	if err != nil {
		t.Fatal(err)
	}
	r.w = w
	t.Cleanup(func() { w.Close() })
	return r
}

func (r *watchRig) write(content string) {
	r.t.Helper()
	if err := os.WriteFile(r.path, []byte(content), 0o600); err != nil {
		r.t.Fatal(err)
	}
}

// replace writes content the way OpenClaw and editors do: a temp file renamed over.
func (r *watchRig) replace(content string) {
	r.t.Helper()
	tmp := r.path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		r.t.Fatal(err)
	}
	if err := os.Rename(tmp, r.path); err != nil {
		r.t.Fatal(err)
	}
}

func (r *watchRig) event() Event {
	r.t.Helper()
	select {
	case e := <-r.events:
		return e
	case <-time.After(5 * time.Second):
		r.t.Fatal("no event")
	}
	return Event{}
}

// quiet waits for the next debounced check and asserts it emitted nothing.
func (r *watchRig) quiet() {
	r.t.Helper()
	select {
	case emitted := <-r.settled:
		if emitted {
			r.t.Fatalf("unexpected event: %+v", <-r.events)
		}
	case <-time.After(5 * time.Second):
		r.t.Fatal("the watcher never looked")
	}
}

func cfg(primary string, models ...string) string {
	var ms []string
	for _, m := range models {
		ms = append(ms, `{ id: "`+m+`", name: "`+m+`" }`)
	}
	return `{
  models: { providers: { litellm: { baseUrl: "http://127.0.0.1:4000/v1", models: [` + strings.Join(ms, ", ") + `] } } },
  agents: { defaults: { model: { primary: "` + primary + `" } } },
}
`
}

func TestWatchRenameOver(t *testing.T) {
	r := newWatchRig(t, cfg("litellm/a", "a", "b"))
	r.replace(cfg("litellm/b", "a", "b"))
	e := r.event()
	if e.Kind != Changed|PrimaryChanged {
		t.Fatalf("kind = %v", e.Kind)
	}
	if e.Status.Primary != "litellm/b" || !e.Status.PrimaryLiteLLM || !e.Status.PointsHere {
		t.Errorf("status = %+v", e.Status)
	}
	// A second rename-over is seen too (a watch on the file itself would have lost it).
	r.replace(cfg("litellm/b", "a", "b", "c"))
	if e := r.event(); e.Kind != Changed|LiteLLMModelsChanged {
		t.Fatalf("kind = %v", e.Kind)
	}
}

func TestWatchDeleteAndRecreate(t *testing.T) {
	r := newWatchRig(t, cfg("litellm/a", "a"))
	if err := os.Remove(r.path); err != nil {
		t.Fatal(err)
	}
	if e := r.event(); e.Kind != Gone {
		t.Fatalf("kind = %v", e.Kind)
	}
	r.write(cfg("litellm/a", "a", "z"))
	e := r.event()
	if e.Kind != Changed|LiteLLMModelsChanged {
		t.Fatalf("kind = %v", e.Kind)
	}
	if len(e.Status.Models) != 2 {
		t.Errorf("models = %v", e.Status.Models)
	}
}

func TestWatchRapidWrites(t *testing.T) {
	r := newWatchRig(t, cfg("litellm/a", "a"))
	var last string
	for i := 0; i < 10; i++ {
		last = cfg("litellm/m"+string(rune('0'+i)), "a")
		r.write(last)
	}
	e := r.event()
	if string(e.Data) != last || e.Status.Primary != "litellm/m9" {
		t.Fatalf("event for %q, want the last write", e.Status.Primary)
	}
	if !<-r.settled {
		t.Fatal("settled without emitting")
	}
	// Next change: its event must be the very next one (no stragglers from the burst).
	r.replace(cfg("litellm/final", "a"))
	if e := r.event(); e.Status.Primary != "litellm/final" {
		t.Fatalf("next event is for %q", e.Status.Primary)
	}
}

func TestWatchIgnoresOwnWrites(t *testing.T) {
	r := newWatchRig(t, cfg("litellm/a", "a"))
	original, _ := os.ReadFile(r.path)
	d := mustParse(t, string(original))
	if _, err := Use(d, "b"); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(r.path, original, d, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	r.quiet()
	// Rewriting the same bytes is no change either.
	r.write(string(d.Bytes()))
	r.quiet()
	// Someone else's write still gets through, compared with our last state.
	r.replace(strings.Replace(string(d.Bytes()), "litellm/b", "litellm/c", 1))
	if e := r.event(); e.Kind != Changed|PrimaryChanged || e.Status.Primary != "litellm/c" {
		t.Fatalf("event %v %q", e.Kind, e.Status.Primary)
	}
}

func TestWatchInvalid(t *testing.T) {
	r := newWatchRig(t, cfg("litellm/a", "a"))
	r.write("{ models: ")
	e := r.event()
	if e.Kind != Invalid || e.Err == nil {
		t.Fatalf("event %v %v", e.Kind, e.Err)
	}
	r.write(cfg("litellm/a", "a"))
	if e := r.event(); e.Kind != Changed {
		t.Fatalf("kind after the fix = %v (nothing we track changed)", e.Kind)
	}
}

func TestWatchFileAppears(t *testing.T) {
	r := newWatchRig(t, "")
	r.replace(cfg("litellm/a", "a"))
	if e := r.event(); e.Kind != Changed|PrimaryChanged|LiteLLMModelsChanged {
		t.Fatalf("kind = %v", e.Kind)
	}
}

// TestWatchFolderAppears: OpenClaw installed after Clawgate started watching.
func TestWatchFolderAppears(t *testing.T) {
	home := t.TempDir()
	r := newWatchRigAt(t, filepath.Join(home, ".openclaw", "profiles", "openclaw.json"), "")
	if err := os.MkdirAll(filepath.Dir(r.path), 0o700); err != nil {
		t.Fatal(err)
	}
	r.replace(cfg("litellm/a", "a"))
	if e := r.event(); e.Kind != Changed|PrimaryChanged|LiteLLMModelsChanged || e.Status.Primary != "litellm/a" {
		t.Fatalf("event = %v %q", e.Kind, e.Status.Primary)
	}
}

// TestWatchFolderDeletedAndRecreated: the whole folder removed (an uninstall), then made again.
func TestWatchFolderDeletedAndRecreated(t *testing.T) {
	dir := filepath.Join(t.TempDir(), ".openclaw")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	r := newWatchRigAt(t, filepath.Join(dir, "openclaw.json"), cfg("litellm/a", "a"))
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if e := r.event(); e.Kind != Gone {
		t.Fatalf("kind = %v, want gone", e.Kind)
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	r.replace(cfg("litellm/b", "b"))
	if e := r.event(); !e.Kind.Has(Changed|PrimaryChanged) || e.Status.Primary != "litellm/b" {
		t.Fatalf("event = %v %q", e.Kind, e.Status.Primary)
	}
	// And the new folder is watched for good: a later edit is seen too.
	r.replace(cfg("litellm/a", "b"))
	if e := r.event(); !e.Kind.Has(PrimaryChanged) || e.Status.Primary != "litellm/a" {
		t.Fatalf("event = %v %q", e.Kind, e.Status.Primary)
	}
}

func TestEventKindString(t *testing.T) {
	if s := (Changed | PrimaryChanged).String(); s != "changed|primary-changed" {
		t.Errorf("got %q", s)
	}
}

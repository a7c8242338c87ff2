package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	modelsAB = "model_list:\n  - model_name: a\n    litellm_params: {model: openai/gpt-4o-mini}\n" +
		"  - model_name: b\n    litellm_params: {model: anthropic/claude-sonnet-4-5}\n"
	modelC      = "  - model_name: c\n    litellm_params: {model: openai/gpt-4o}\n"
	master      = "general_settings: {master_key: sk-master}\n"
	twoModels   = modelsAB + master
	threeModels = modelsAB + modelC + master
)

// openClawFixture is a HOME, a gateway config and an OpenClaw config at a known path.
type openClawFixture struct {
	cfg, oc, orig string
	opts          Options
}

func newOpenClawFixture(t *testing.T) openClawFixture {
	t.Helper()
	home, _ := ocHome(t)
	dir := t.TempDir()
	f := openClawFixture{
		cfg:  filepath.Join(dir, "config.yaml"),
		oc:   filepath.Join(home, ".openclaw", "openclaw.json"),
		orig: "// mine\n{\n  agents: { defaults: { model: { primary: \"openai/gpt-5\" } } },\n}\n",
	}
	if err := os.WriteFile(f.cfg, []byte(twoModels), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(f.oc), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.oc, []byte(f.orig), 0o600); err != nil {
		t.Fatal(err)
	}
	f.opts = Options{ConfigPath: f.cfg, DataDir: dir, OpenClawConfig: f.oc}
	return f
}

// awaitStatus reads events until one's status satisfies ok.
func awaitStatus(t *testing.T, ch <-chan Event, what string, ok func(Status) bool) Status {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev := <-ch:
			if ev.Kind == EventStatus && ok(ev.Status) {
				return ev.Status
			}
		case <-deadline:
			t.Fatalf("no status with %s", what)
		}
	}
}

// replaceFile writes data to path the way editors and OpenClaw do: a temp file renamed over it.
func replaceFile(t *testing.T, path, data string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func TestOpenClawStateFollowsTheFile(t *testing.T) {
	f := newOpenClawFixture(t)
	a := startApp(t, f.opts)
	if st := a.Status().OpenClaw; st.Connected || st.Primary != "openai/gpt-5" || st.Path != f.oc || st.Err != "" {
		t.Fatalf("before connect: %+v", st)
	}
	events, cancel := a.Subscribe()
	defer cancel()

	if err := a.ConnectOpenClaw(); err != nil {
		t.Fatal(err)
	}
	awaitStatus(t, events, "connected", func(s Status) bool { return s.OpenClaw.Connected })
	if err := a.UseOpenClawModel("a"); err != nil {
		t.Fatal(err)
	}
	awaitStatus(t, events, "primary litellm/a after use", func(s Status) bool { return s.OpenClaw.Primary == "litellm/a" })

	// Someone else (OpenClaw, an editor) switches the model: the status follows.
	b, _ := os.ReadFile(f.oc)
	if !bytes.Contains(b, []byte(`"litellm/a"`)) {
		t.Fatalf("file after use:\n%s", b)
	}
	replaceFile(t, f.oc, strings.Replace(string(b), `"litellm/a"`, `"litellm/b"`, 1))
	awaitStatus(t, events, "primary litellm/b after an outside edit", func(s Status) bool {
		return s.OpenClaw.Primary == "litellm/b" && s.OpenClaw.Err == ""
	})

	// A broken file is reported; the last good primary stays, as OpenClaw keeps its last good config.
	replaceFile(t, f.oc, "{ agents: ")
	st := awaitStatus(t, events, "an invalid file", func(s Status) bool { return s.OpenClaw.Err != "" })
	if !strings.Contains(st.OpenClaw.Err, "invalid") || st.OpenClaw.Primary != "litellm/b" {
		t.Errorf("invalid file: %+v", st.OpenClaw)
	}
	if err := os.Remove(f.oc); err != nil {
		t.Fatal(err)
	}
	st = awaitStatus(t, events, "a gone file", func(s Status) bool { return strings.Contains(s.OpenClaw.Err, "gone") })
	if st.OpenClaw.Primary != "" || !st.OpenClaw.Connected {
		t.Errorf("gone file: %+v", st.OpenClaw)
	}
}

func TestReloadSyncsOpenClawModels(t *testing.T) {
	f := newOpenClawFixture(t)
	a := startApp(t, f.opts)
	if err := a.ConnectOpenClaw(); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(f.oc)
	if bytes.Contains(before, []byte(`id: "c"`)) {
		t.Fatalf("c before it was served:\n%s", before)
	}
	events, cancel := a.Subscribe()
	defer cancel()
	replaceFile(t, f.cfg, threeModels)
	// The reload syncs before it publishes, so the file is in step once the new models show.
	awaitStatus(t, events, "model c served", func(s Status) bool { return len(s.Models) == 3 })
	after, _ := os.ReadFile(f.oc)
	if !bytes.Contains(after, []byte(`id: "c"`)) || !bytes.Contains(after, []byte("// mine")) {
		t.Errorf("after the reload OpenClaw's models[] lacks c (or the comment went):\n%s", after)
	}
}

func TestNotConnectedNeverWrites(t *testing.T) {
	f := newOpenClawFixture(t)
	a := startApp(t, f.opts)
	events, cancel := a.Subscribe()
	defer cancel()

	replaceFile(t, f.cfg, threeModels)
	awaitStatus(t, events, "model c served", func(s Status) bool { return len(s.Models) == 3 })
	if err := a.UseOpenClawModel("a"); err == nil || !strings.Contains(err.Error(), "connect") {
		t.Errorf("use before connect: %v", err)
	}
	if _, err := a.OpenClawSync(context.Background()); err == nil {
		t.Error("sync before connect succeeded")
	}
	if b, _ := os.ReadFile(f.oc); string(b) != f.orig {
		t.Errorf("a not-connected app edited OpenClaw's config:\n%s", b)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(f.oc), ".env")); err == nil {
		t.Error("a not-connected app wrote OpenClaw's .env")
	}
	if st := a.Status().OpenClaw; st.Connected || st.Primary != "openai/gpt-5" {
		t.Errorf("status %+v", st)
	}
}

func TestOpenClawStateAtStart(t *testing.T) {
	tests := []struct {
		name    string
		content *string // nil: no file
		want    OpenClawState
	}{
		{"no file", nil, OpenClawState{Err: "no config file"}},
		{"invalid", ptr("{ agents: "), OpenClawState{Err: "config invalid: json5: line 1"}},
		{"string model", ptr(`{agents: {defaults: {model: "litellm/b"}}}`), OpenClawState{Primary: "litellm/b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newOpenClawFixture(t)
			os.Remove(f.oc)
			if tt.content != nil {
				os.WriteFile(f.oc, []byte(*tt.content), 0o600)
			}
			got := startApp(t, f.opts).Status().OpenClaw
			if got.Connected || got.Path != f.oc || got.Primary != tt.want.Primary ||
				!strings.HasPrefix(got.Err, tt.want.Err) || (tt.want.Err == "") != (got.Err == "") {
				t.Errorf("state %+v, want %+v", got, tt.want)
			}
		})
	}
}

func ptr(s string) *string { return &s }

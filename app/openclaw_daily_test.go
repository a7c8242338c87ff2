package app

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clawgate/clawgate/app/openclaw"
)

// TestOpenClawConnectProbes: connect refuses to write a URL where no gateway answers (an app that
// is not serving writes its configured port), unless forced; status then reports it live.
func TestOpenClawConnectProbes(t *testing.T) {
	f := newOpenClawFixture(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.opts.Port = l.Addr().(*net.TCPAddr).Port
	l.Close() // nothing listens there now
	f.opts.Logger = quiet()
	f.opts.NoKeychain = true
	a, err := New(f.opts)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop(context.Background())
	ctx := context.Background()

	lines, err := a.OpenClawConnect(ctx, OpenClawConnectOptions{})
	if err == nil || !strings.Contains(err.Error(), "no Clawgate gateway answers") || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("connect with nothing listening: %v (%q)", err, lines)
	}
	if b, _ := os.ReadFile(f.oc); string(b) != f.orig {
		t.Fatal("a refused connect wrote the file")
	}
	lines, err = a.OpenClawConnect(ctx, OpenClawConnectOptions{Force: true})
	if err != nil || !strings.Contains(strings.Join(lines, "\n"), "written anyway") {
		t.Fatalf("forced connect: %v (%q)", err, lines)
	}
	live, err := a.OpenClawCheck(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if live.URLErr == "" || !strings.HasPrefix(live.KeyErr, "not checked") {
		t.Errorf("status with nothing listening: %+v", live)
	}
}

func TestOpenClawCheckLive(t *testing.T) {
	f, a := connectedApp(t)
	ctx := context.Background()
	envFile := filepath.Join(filepath.Dir(f.oc), ".env")
	for _, tc := range []struct {
		name   string
		prep   func()
		urlOK  bool
		keyErr string // prefix; "" = works
	}{
		{"connected: both answer", func() {}, true, ""},
		{"the key in .env is not one the gateway knows", func() {
			os.WriteFile(envFile, []byte("LITELLM_API_KEY=sk-not-a-key-of-this-gateway\n"), 0o600)
		}, true, "refused (401)"},
		{"the environment beats .env, as in OpenClaw", func() { t.Setenv("LITELLM_API_KEY", a.MasterKey()) }, true, ""},
		{"the key set nowhere", func() { t.Setenv("LITELLM_API_KEY", ""); os.Remove(envFile) }, true, "LITELLM_API_KEY is not set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.prep()
			live, err := a.OpenClawCheck(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if (live.URLErr == "") != tc.urlOK || live.URL != a.Status().BaseURL()+"/v1" {
				t.Errorf("URL %q: %q", live.URL, live.URLErr)
			}
			if (tc.keyErr == "") != (live.KeyErr == "") || !strings.HasPrefix(live.KeyErr, tc.keyErr) {
				t.Errorf("key (%s): %q, want %q", live.KeySource, live.KeyErr, tc.keyErr)
			}
			if len(live.Agents) != 1 || live.Agents[0].ID != "main" || live.Agents[0].Model != "openai/gpt-5" {
				t.Errorf("agents %+v", live.Agents)
			}
		})
	}
}

// TestOpenClawUsePinnedAgent: the case, one agent pinned to another provider. Default scope
// switches the default and names the agent; "all" switches the agent too.
func TestOpenClawUsePinnedAgent(t *testing.T) {
	f, a := connectedApp(t)
	ctx := context.Background()
	b, _ := os.ReadFile(f.oc)
	pinned := strings.Replace(string(b), "agents: {", `agents: { entries: { coder: { model: "anthropic/claude-opus-4-6" } },`, 1)
	replaceFile(t, f.oc, pinned)

	lines, kept, err := a.OpenClawUse(ctx, "a", openclaw.AgentsDefault)
	if err != nil {
		t.Fatal(err)
	}
	if len(kept) != 1 || kept[0].ID != "coder" || !strings.Contains(strings.Join(lines, "\n"), "agent coder keeps its own model anthropic/claude-opus-4-6") {
		t.Errorf("default scope: kept %+v, lines %q", kept, lines)
	}
	if st := a.Status().OpenClaw; st.Pinned != "coder: anthropic/claude-opus-4-6" {
		t.Errorf("status Pinned %q", st.Pinned)
	}
	lines, kept, err = a.OpenClawUse(ctx, "a", openclaw.AgentsAll)
	if err != nil || len(kept) != 0 {
		t.Fatalf("all agents: %v, kept %+v (%q)", err, kept, lines)
	}
	agents, err := a.OpenClawAgents()
	if err != nil || len(agents) != 1 || agents[0].Model != "litellm/a" || !agents[0].Pinned {
		t.Errorf("agents after --agents all: %+v %v", agents, err)
	}
	if st := a.Status().OpenClaw; st.Pinned != "coder: litellm/a" {
		t.Errorf("status Pinned %q", st.Pinned)
	}
}

// connectedApp is a serving app with OpenClaw (the fixture's config) connected.
func connectedApp(t *testing.T) (openClawFixture, *App) {
	t.Helper()
	f := newOpenClawFixture(t)
	a := startApp(t, f.opts)
	if _, err := a.OpenClawConnect(context.Background(), OpenClawConnectOptions{}); err != nil {
		t.Fatal(err)
	}
	return f, a
}

// holdLock writes OpenClaw's lock beside the config, as OpenClaw does while it writes.
func holdLock(t *testing.T, config string) (release func()) {
	t.Helper()
	lp := config + ".lock"
	body, _ := json.Marshal(map[string]any{"pid": 4242, "createdAt": time.Now().UTC().Format(time.RFC3339Nano)})
	if err := os.WriteFile(lp, body, 0o600); err != nil {
		t.Fatal(err)
	}
	return func() { os.Remove(lp) }
}

// TestOpenClawUseWaitsForLock: OpenClaw holds its lock, writes the file, then lets go; use waits,
// sees the file changed, redoes its edit on the new content and keeps OpenClaw's change.
func TestOpenClawUseWaitsForLock(t *testing.T) {
	f, a := connectedApp(t)
	ctx := context.Background()
	release := holdLock(t, f.oc)
	done := make(chan struct{})
	time.AfterFunc(time.Second, func() {
		defer close(done)
		b, _ := os.ReadFile(f.oc)
		os.WriteFile(f.oc, []byte(strings.Replace(string(b), "// mine", "// mine\n// OpenClaw wrote this while holding its lock", 1)), 0o600)
		release()
	})
	start := time.Now()
	lines, _, err := a.OpenClawUse(ctx, "b", openclaw.AgentsDefault)
	<-done
	if err != nil {
		t.Fatalf("use while OpenClaw held its lock for 1 s: %v (%q)", err, lines)
	}
	if took := time.Since(start); took > openclaw.LockWait+time.Second {
		t.Errorf("use took %v", took)
	}
	b, _ := os.ReadFile(f.oc)
	if !strings.Contains(string(b), "OpenClaw wrote this") || !strings.Contains(string(b), `"litellm/b"`) {
		t.Errorf("after the wait the file lacks OpenClaw's change or ours:\n%s", b)
	}
}

// TestOpenClawSyncRetried: a sync after a reload that cannot run (OpenClaw keeps its lock past
// LockWait) marks OpenClaw out of sync, and is retried until it succeeds.
func TestOpenClawSyncRetried(t *testing.T) {
	f := newOpenClawFixture(t)
	a := startApp(t, f.opts)
	if err := a.ConnectOpenClaw(); err != nil {
		t.Fatal(err)
	}
	oldWait, oldFirst := openclaw.LockWait, syncRetryFirst
	openclaw.LockWait, syncRetryFirst = 200*time.Millisecond, 100*time.Millisecond
	t.Cleanup(func() { openclaw.LockWait, syncRetryFirst = oldWait, oldFirst })
	events, cancel := a.Subscribe()
	defer cancel()

	release := holdLock(t, f.oc)
	replaceFile(t, f.cfg, threeModels)
	st := awaitStatus(t, events, "OpenClaw out of sync", func(s Status) bool { return s.OpenClaw.OutOfSync != "" })
	if !strings.Contains(st.OpenClaw.OutOfSync, "locked by another writer") {
		t.Errorf("OutOfSync = %q", st.OpenClaw.OutOfSync)
	}
	if b, _ := os.ReadFile(f.oc); strings.Contains(string(b), `id: "c"`) {
		t.Fatal("written while locked")
	}
	release()
	awaitStatus(t, events, "back in sync", func(s Status) bool { return s.OpenClaw.OutOfSync == "" })
	if b, _ := os.ReadFile(f.oc); !strings.Contains(string(b), `id: "c"`) {
		t.Errorf("the retried sync did not add c:\n%s", b)
	}
}

package app

import (
	"context"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
)

func answers(port int) bool {
	resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(port) + "/health/liveliness")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == 200
}

// A port change is live: the gateway answers on the new port and no longer on the old, the address
// is kept in config.yaml (one line added, the rest as it was), OpenClaw's baseUrl follows, and the
// next start listens there.
func TestSetListen(t *testing.T) {
	f := newOpenClawFixture(t)
	os.WriteFile(f.cfg, []byte("# mine\n"+twoModels), 0o600)
	a := startApp(t, f.opts)
	if err := a.ConnectOpenClaw(); err != nil {
		t.Fatal(err)
	}
	old := a.opts.Port
	if !answers(old) {
		t.Fatal("not answering before the move")
	}
	next := freePort(t)
	if p := a.CheckListen("127.0.0.1", next); p != "" {
		t.Fatalf("CheckListen of a free port: %s", p)
	}
	if err := a.SetListen(context.Background(), "127.0.0.1", next); err != nil {
		t.Fatal(err)
	}
	if !answers(next) || answers(old) {
		t.Fatalf("after the move: new port answers %v, old %v", answers(next), answers(old))
	}
	if got := a.Status().Addr; got != "127.0.0.1:"+strconv.Itoa(next) {
		t.Errorf("Status().Addr = %s", got)
	}
	text, _ := os.ReadFile(f.cfg)
	want := "# mine\n" + modelsAB + "general_settings: {master_key: sk-master, clawgate_listen: '127.0.0.1:" + strconv.Itoa(next) + "'}\n"
	if string(text) != want {
		t.Errorf("config:\n%s\nwant:\n%s", text, want)
	}
	oc, _ := os.ReadFile(f.oc)
	if !strings.Contains(string(oc), "http://127.0.0.1:"+strconv.Itoa(next)+"/v1") || strings.Contains(string(oc), ":"+strconv.Itoa(old)+"/") {
		t.Errorf("OpenClaw's config still points at the old port:\n%s", oc)
	}

	// Another program on a port: said, and nothing moves.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	taken := l.Addr().(*net.TCPAddr).Port
	if p := a.CheckListen("127.0.0.1", taken); !strings.Contains(p, "in use") {
		t.Errorf("CheckListen of a taken port: %q", p)
	}
	if err := a.SetListen(context.Background(), "127.0.0.1", taken); err == nil || !answers(next) {
		t.Errorf("SetListen to a taken port: %v; still on %d: %v", err, next, answers(next))
	}
	for _, bad := range []struct {
		host string
		port int
		want string
	}{{"127.0.0.1", 0, "1 to 65535"}, {"127.0.0.1", 70000, "1 to 65535"}, {"my-laptop", 4000, "IP address"}} {
		if p := a.CheckListen(bad.host, bad.port); !strings.Contains(p, bad.want) {
			t.Errorf("CheckListen(%s, %d) = %q, want %q", bad.host, bad.port, p, bad.want)
		}
	}

	// The next start listens where Settings put it.
	ctx := context.Background()
	a.Stop(ctx)
	opts := f.opts
	opts.Logger, opts.NoKeychain = quiet(), true
	b, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer b.Stop(ctx)
	if !answers(next) {
		t.Error("the next start does not listen on the saved port")
	}
}

// Beyond loopback needs a master key.
func TestCheckListenLANNeedsMaster(t *testing.T) {
	dir := t.TempDir()
	cfg := dir + "/config.yaml"
	os.WriteFile(cfg, []byte("model_list:\n  - model_name: m\n    litellm_params: {model: openai/gpt-4o, api_key: sk-x}\n"), 0o600)
	a := startApp(t, Options{ConfigPath: cfg, DataDir: dir})
	if p := a.CheckListen("0.0.0.0", 4000); !strings.Contains(p, "master key") {
		t.Errorf("LAN without a master key: %q", p)
	}
}

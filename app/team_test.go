package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/app/keychain"
	"github.com/clawgate/clawgate/app/ledger"
	"github.com/clawgate/clawgate/app/openclaw"
	"github.com/clawgate/clawgate/proxy/provider/upstream"
)

// teamGW is a real Clawgate serving as a team's gateway (proxy and ledger on a port of its own),
// with a virtual key for one member: alias "alice", $10 a month, $1.25 spent.
type teamGW struct {
	app *App
	url string
	key string
}

const teamConfig = "model_list:\n" +
	"  - model_name: team-fast\n    litellm_params: {model: openai/gpt-4o-mini}\n" +
	"  - model_name: team-smart\n    litellm_params: {model: anthropic/claude-sonnet-4-5}\n" +
	"general_settings: {master_key: sk-team-master}\n"

func newTeamGW(t *testing.T) teamGW {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(teamConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	a := startApp(t, Options{ConfigPath: cfg, DataDir: dir})
	ctx := context.Background()
	alias, budget, dur, spend := "alice", 10.0, "30d", 1.25
	key, _, err := a.led().GenerateKey(ctx, ledger.KeyRequest{KeyAlias: &alias, MaxBudget: &budget, BudgetDuration: &dur})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.led().UpdateKey(ctx, key, ledger.KeyRequest{Spend: &spend}); err != nil {
		t.Fatal(err)
	}
	return teamGW{app: a, url: a.Status().BaseURL(), key: key}
}

// testKeychain is the real OS keychain (a Secret Service under scripts/with-session.sh) under a
// service of this test's own, emptied at the end.
func testKeychain(t *testing.T) *keychain.Store {
	t.Helper()
	b := make([]byte, 4)
	rand.Read(b)
	kc := keychain.NewService("clawgate-apptest-" + hex.EncodeToString(b))
	if _, err := kc.List(); err != nil {
		t.Fatalf("these tests need a real keychain; run them inside scripts/with-session.sh: %v", err)
	}
	t.Cleanup(func() {
		names, _ := kc.List()
		for _, n := range names {
			kc.Delete(n)
		}
	})
	return kc
}

func TestCheckTeam(t *testing.T) {
	gw := newTeamGW(t)
	ctx := context.Background()
	info, err := CheckTeam(ctx, nil, " "+gw.url+"/v1/ ", gw.key)
	if err != nil {
		t.Fatal(err)
	}
	k := info.Key
	if info.URL != gw.url || k.Alias != "alice" || k.Spend != 1.25 || k.MaxBudget == nil || *k.MaxBudget != 10 ||
		k.BudgetDuration != "30d" || k.BudgetResetAt == nil || k.Blocked {
		t.Errorf("info = %+v, key %+v", info, k)
	}
	if strings.Join(info.Models, ",") != "team-fast,team-smart" {
		t.Errorf("models %q", info.Models)
	}

	tls := httptest.NewTLSServer(http.NotFoundHandler())
	defer tls.Close()
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html>router login</html>"))
	}))
	defer html.Close()
	nothing := "http://127.0.0.1:" + strconv.Itoa(freePort(t))
	blockedKey := func() string {
		k, _, err := gw.app.led().GenerateKey(ctx, ledger.KeyRequest{})
		if err != nil {
			t.Fatal(err)
		}
		blocked := true
		if _, err := gw.app.led().UpdateKey(ctx, k, ledger.KeyRequest{Blocked: &blocked}); err != nil {
			t.Fatal(err)
		}
		return k
	}()
	for _, c := range []struct {
		name, url, key string
		want           error
		says           string
	}{
		{"wrong key", gw.url, "sk-not-a-team-key-0123456789", ErrTeamKeyRejected, "401"},
		{"no key", gw.url, "  ", ErrTeamKeyRejected, "virtual key"},
		{"blocked key", gw.url, blockedKey, ErrTeamKeyBlocked, "blocked"},
		{"nothing listens", nothing, gw.key, ErrTeamUnreachable, nothing},
		{"not a URL", "llm.example.com", gw.key, ErrTeamURL, "https://"},
		{"ftp", "ftp://llm.example.com", gw.key, ErrTeamURL, "https://"},
		{"untrusted certificate", tls.URL, gw.key, ErrTeamTLS, "not signed by an authority"},
		{"https to plain http", strings.Replace(gw.url, "http://", "https://", 1), gw.key, ErrTeamTLS, "plain HTTP"},
		{"not a gateway", html.URL, gw.key, ErrNotTeamGateway, "text/html"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := CheckTeam(ctx, nil, c.url, c.key)
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("err = %v, want %v saying %q", err, c.want, c.says)
			}
			if strings.Contains(err.Error(), gw.key) {
				t.Errorf("the key leaked into the error: %v", err)
			}
		})
	}
	// A server that trusts the certificate but is no gateway: 404s say so.
	client := tls.Client()
	if _, err := CheckTeam(ctx, client, tls.URL, gw.key); !errors.Is(err, ErrNotTeamGateway) || !strings.Contains(err.Error(), "404") {
		t.Errorf("404 server: %v", err)
	}
}

// localWithOpenClaw is this machine's Clawgate (routes a and b) with a real keychain, and an
// OpenClaw config whose primary is litellm/a, connected to it.
func localWithOpenClaw(t *testing.T) (a *App, kc *keychain.Store, oc, env string) {
	t.Helper()
	home, cfg := ocHome(t)
	oc = filepath.Join(home, ".openclaw", "openclaw.json")
	env = filepath.Join(home, ".openclaw", ".env")
	os.MkdirAll(filepath.Dir(oc), 0o700)
	orig := "// mine\n{\n  gateway: { mode: \"local\" },\n  agents: { defaults: { model: { primary: \"litellm/a\" } } },\n}\n"
	if err := os.WriteFile(oc, []byte(orig), 0o600); err != nil {
		t.Fatal(err)
	}
	kc = testKeychain(t)
	a = startApp(t, Options{ConfigPath: cfg, DataDir: t.TempDir(), Secrets: kc})
	if lines, err := a.OpenClawConnect(context.Background(), OpenClawConnectOptions{}); err != nil {
		t.Fatalf("connect: %v %q", err, lines)
	}
	return a, kc, oc, env
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestJoinTeamAndBack(t *testing.T) {
	gw := newTeamGW(t)
	a, kc, oc, env := localWithOpenClaw(t)
	ctx := context.Background()
	local, localEnv := read(t, oc), read(t, env)
	localKey, _ := openclaw.LookupEnvFile(env, "LITELLM_API_KEY")

	lines, err := a.JoinTeam(ctx, gw.url+"/", gw.key)
	if err != nil {
		t.Fatalf("join: %v %q", err, lines)
	}
	// The key is in the keychain, not in Clawgate's files; the URL is a setting.
	if got, err := kc.Get(TeamKeyName); err != nil || got != gw.key {
		t.Fatalf("keychain: %v", err)
	}
	if v, _, _ := a.led().Store().GetSetting(ctx, settingTeamURL); v != gw.url {
		t.Errorf("setting %q", v)
	}
	assertNotInDir(t, a.Status().DataDir, gw.key)
	s := a.Status()
	if !s.UsingTeam() || s.Team.Info == nil || s.Team.SpendLine() != "Team: $1.25 of $10.00 per 30d" {
		t.Errorf("status: using %v, %+v, line %q", s.UsingTeam(), s.Team, s.Team.SpendLine())
	}
	// OpenClaw reaches the team: its URL, its models, the team key by reference; the primary
	// moved from a (not served by the team) to a team model; comments and the rest kept.
	team := read(t, oc)
	for _, want := range []string{"// mine", `mode: "local"`, `"` + gw.url + `/v1"`, `"${CLAWGATE_TEAM_KEY}"`, `id: "team-fast"`, `id: "team-smart"`, `primary: "litellm/team-fast"`} {
		if !strings.Contains(team, want) {
			t.Errorf("team config lacks %s:\n%s", want, team)
		}
	}
	for _, gone := range []string{`id: "a"`, "${LITELLM_API_KEY}", a.Status().BaseURL()} {
		if strings.Contains(team, gone) {
			t.Errorf("team config still has %s:\n%s", gone, team)
		}
	}
	if v, _ := openclaw.LookupEnvFile(env, "CLAWGATE_TEAM_KEY"); v != gw.key {
		t.Errorf(".env team key %q", v)
	}
	if v, _ := openclaw.LookupEnvFile(env, "LITELLM_API_KEY"); v != localKey {
		t.Error("the local key in .env changed")
	}
	// A reload of the local gateway does not drag OpenClaw back to the local routes.
	if lines, err := a.OpenClawSync(ctx); err != nil || read(t, oc) != team {
		t.Errorf("sync while on the team: %v %q", err, lines)
	}
	// Model switching in the tray works with the team's models.
	if _, _, err := a.OpenClawUse(ctx, "team-smart", openclaw.AgentsDefault); err != nil {
		t.Errorf("use a team model: %v", err)
	}

	// One click back: byte for byte the local config, the key kept for the next switch.
	if lines, err := a.UseLocalGateway(ctx); err != nil {
		t.Fatalf("local: %v %q", err, lines)
	}
	if got := read(t, oc); got != local {
		t.Errorf("back to local is not the local config:\n%s\nwant\n%s", got, local)
	}
	if s := a.Status(); s.UsingTeam() || !s.Team.Joined() {
		t.Errorf("after local: using %v joined %v", s.UsingTeam(), s.Team.Joined())
	}
	if _, err := a.UseTeamGateway(ctx); err != nil {
		t.Fatal(err)
	}
	if got := read(t, oc); !strings.Contains(got, gw.url+"/v1") {
		t.Errorf("team again:\n%s", got)
	}

	// Leave: back to local, key out of .env and the keychain, URL forgotten.
	if lines, err := a.LeaveTeam(ctx); err != nil {
		t.Fatalf("leave: %v %q", err, lines)
	}
	if got := read(t, oc); got != local {
		t.Errorf("after leave:\n%s\nwant\n%s", got, local)
	}
	if got := read(t, env); got != localEnv {
		t.Errorf(".env after leave %q, want %q", got, localEnv)
	}
	if _, err := kc.Get(TeamKeyName); !errors.Is(err, keychain.ErrNotFound) {
		t.Errorf("keychain after leave: %v", err)
	}
	if s := a.Status(); s.Team.Joined() || s.UsingTeam() {
		t.Errorf("still joined: %+v", s.Team)
	}
	if _, err := a.UseTeamGateway(ctx); !errors.Is(err, ErrNotJoined) {
		t.Errorf("use after leave: %v", err)
	}
}

func TestJoinTeamRefusedKeepsNothing(t *testing.T) {
	gw := newTeamGW(t)
	a, kc, oc, env := localWithOpenClaw(t)
	ctx := context.Background()
	local, localEnv := read(t, oc), read(t, env)
	for _, c := range []struct {
		url, key string
		want     error
	}{
		{gw.url, "sk-wrong-key-0123456789", ErrTeamKeyRejected},
		{"http://127.0.0.1:" + strconv.Itoa(freePort(t)), gw.key, ErrTeamUnreachable},
	} {
		if _, err := a.JoinTeam(ctx, c.url, c.key); !errors.Is(err, c.want) {
			t.Errorf("join %s: %v, want %v", c.url, err, c.want)
		}
	}
	if _, err := kc.Get(TeamKeyName); !errors.Is(err, keychain.ErrNotFound) {
		t.Errorf("a refused join stored the key: %v", err)
	}
	if a.Status().Team.Joined() || read(t, oc) != local || read(t, env) != localEnv {
		t.Error("a refused join changed something")
	}
}

func TestRefreshTeamFollowsTheGateway(t *testing.T) {
	gw := newTeamGW(t)
	a, _, _, _ := localWithOpenClaw(t)
	ctx := context.Background()
	if _, err := a.JoinTeam(ctx, gw.url, gw.key); err != nil {
		t.Fatal(err)
	}
	events, stop := a.Subscribe()
	defer stop()
	spend := 4.5
	if _, err := gw.app.led().UpdateKey(ctx, gw.key, ledger.KeyRequest{Spend: &spend}); err != nil {
		t.Fatal(err)
	}
	st, err := a.RefreshTeam(ctx)
	if err != nil || st.Info.Key.Spend != 4.5 {
		t.Fatalf("refresh: %v %+v", err, st)
	}
	awaitStatus(t, events, "the new spend", func(s Status) bool { return s.Team.Info != nil && s.Team.Info.Key.Spend == 4.5 })
	// A blocked key: the read fails, says why, and the last good figures stay.
	blocked := true
	if _, err := gw.app.led().UpdateKey(ctx, gw.key, ledger.KeyRequest{Blocked: &blocked}); err != nil {
		t.Fatal(err)
	}
	st, err = a.RefreshTeam(ctx)
	if !errors.Is(err, ErrTeamKeyBlocked) || !strings.Contains(st.Err, "blocked") || st.Info == nil || st.Info.Key.Spend != 4.5 {
		t.Errorf("blocked: %v %+v", err, st)
	}
}

// assertNotInDir fails when any file under dir contains secret.
func assertNotInDir(t *testing.T, dir, secret string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if b, _ := os.ReadFile(p); strings.Contains(string(b), secret) {
			t.Errorf("%s holds the team key", p)
		}
		return nil
	})
}

// A team gateway behind TLS whose certificate the company's own authority signed: the join fails
// saying where to add that authority, and once it is in Settings' extra CA file the join works,
// with no restart. The providers' transport carries it (applyUpstreamNet), so the two agree.
func TestJoinTeamTrustsSettingsCA(t *testing.T) {
	gw := newTeamGW(t)
	target, err := url.Parse(gw.url)
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewTLSServer(httputil.NewSingleHostReverseProxy(target)) // TLS terminated in front, as in docs/deploy
	defer front.Close()
	a, _, _, _ := localWithOpenClaw(t)
	t.Cleanup(func() { upstream.Configure("", nil); netMu.Lock(); netLast = ""; netMu.Unlock() })
	ctx := context.Background()

	if _, err := a.JoinTeam(ctx, front.URL, gw.key); !errors.Is(err, ErrTeamTLS) || !strings.Contains(err.Error(), "Extra CA file") {
		t.Fatalf("join with the CA unknown: %v, want ErrTeamTLS naming Settings' Extra CA file", err)
	}
	ca := filepath.Join(t.TempDir(), "team-ca.pem")
	pemCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: front.Certificate().Raw})
	if err := os.WriteFile(ca, pemCert, 0o600); err != nil {
		t.Fatal(err)
	}
	s, ver, err := a.Settings()
	if err != nil {
		t.Fatal(err)
	}
	s.CAFile = ca
	if err := a.SaveSettings(ctx, ver, s); err != nil {
		t.Fatal(err)
	}
	if lines, err := a.JoinTeam(ctx, front.URL, gw.key); err != nil {
		t.Fatalf("join with the CA in Settings: %v %q", err, lines)
	}
	if s := a.Status(); !s.UsingTeam() || s.Team.Info == nil || s.Team.Info.URL != front.URL {
		t.Errorf("status after the join: using %v, %+v", s.UsingTeam(), s.Team)
	}
}

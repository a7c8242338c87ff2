package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/internal/fakeupstream"
	"github.com/clawgate/clawgate/proxy/config"
)

// commented is a config a user wrote by hand: comments above, beside and inside entries, blank
// lines, a 4-space nesting, quoting, and keys the form does not own.
const commented = `# My gateway. Keep this header.
general_settings:
  master_key: sk-test-master   # the gateway's key

# --- models ---
model_list:
  # The default model.
  - model_name: gpt-4o   # what OpenClaw asks for
    litellm_params:
        model: "openai/gpt-4o"
        api_key: os.environ/OPENAI_API_KEY # from the shell
        rpm: 60
    model_info:
        id: "main"

  # A cheap one for tests.
  - model_name: mini
    litellm_params:
        model: openai/gpt-4o-mini
        # no key: OPENAI_API_KEY

# Router knobs below.
router_settings:
  num_retries: 2 # twice
`

func commentLines(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if i := strings.Index(l, "#"); i >= 0 {
			out = append(out, strings.TrimSpace(l[i:]))
		}
	}
	return out
}

func newEditApp(t *testing.T, text string) (*App, string) {
	t.Helper()
	t.Setenv("OPENAI_API_KEY", "sk-env")
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := New(Options{ConfigPath: path, DataDir: filepath.Join(dir, "data"), Logger: quiet(), Secrets: mapSecrets{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop(context.Background()) })
	return a, path
}

func routesNow(t *testing.T, a *App) ([]RouteSpec, ConfigVersion) {
	t.Helper()
	rs, v, err := a.Routes()
	if err != nil {
		t.Fatal(err)
	}
	return rs, v
}

// Twenty edits of every kind (add, edit, duplicate, delete) keep every comment of the file that is
// not inside a deleted entry, once each, and the lines no edit touched byte for byte.
func TestRouteEditsKeepComments(t *testing.T) {
	a, path := newEditApp(t, commented)
	rs, v := routesNow(t, a)
	if len(rs) != 2 || rs[0].Name != "gpt-4o" || rs[0].Preset != "openai" || rs[0].Model != "gpt-4o" ||
		rs[0].KeyRef != "os.environ/OPENAI_API_KEY" || rs[1].Model != "gpt-4o-mini" {
		t.Fatalf("routes %+v", rs)
	}
	var err error
	for i := range 20 {
		rs, v = routesNow(t, a)
		switch i % 4 {
		case 0: // add
			v, err = a.SaveRoute(v, -1, RouteSpec{Name: fmt.Sprintf("local-%d", i), Preset: "ollama", Model: "llama3.1", APIBase: "http://localhost:11434"}, "")
		case 1: // edit the hand-written entry: its comments and rpm stay
			r := rs[0]
			r.Model = []string{"gpt-4o", "gpt-4.1"}[i%2]
			v, err = a.SaveRoute(v, 0, r, "")
		case 2: // duplicate the last
			v, err = a.DuplicateRoute(v, len(rs)-1, NewRouteName(rs[len(rs)-1].Name, rs))
		case 3: // delete the last (one added by this test)
			v, err = a.DeleteRoute(v, len(rs)-1)
		}
		if err != nil {
			t.Fatalf("edit %d: %v", i, err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range commentLines(commented) {
		if n := strings.Count(string(got), c); n != 1 {
			t.Errorf("comment %q appears %d times after 20 edits:\n%s", c, n, got)
		}
	}
	// The header, the router section and the second entry were never edited: byte for byte.
	for _, keep := range []string{
		"# My gateway. Keep this header.\ngeneral_settings:\n  master_key: sk-test-master   # the gateway's key\n\n# --- models ---\nmodel_list:\n  # The default model.\n",
		"\n  # A cheap one for tests.\n  - model_name: mini\n    litellm_params:\n        model: openai/gpt-4o-mini\n        # no key: OPENAI_API_KEY\n",
		"\n# Router knobs below.\nrouter_settings:\n  num_retries: 2 # twice\n",
	} {
		if !strings.Contains(string(got), keep) {
			t.Errorf("lost the untouched text\n%s\nin\n%s", keep, got)
		}
	}
	// The edited entry keeps what the form does not own, and its own comments.
	if !regexp.MustCompile(`(?m)^  - model_name: gpt-4o   # what OpenClaw asks for\n    litellm_params:\n        model: "?openai/gpt-4\.1"?\n        api_key: os.environ/OPENAI_API_KEY # from the shell\n        rpm: 60\n`).Match(got) {
		t.Errorf("edited entry:\n%s", got)
	}
	if _, err := os.Stat(path + ".bak"); err != nil {
		t.Errorf("no backup: %v", err)
	}
	// Live: the gateway serves what the file says now.
	rs, _ = routesNow(t, a)
	var want []string
	for _, r := range rs {
		want = append(want, r.Name)
	}
	if got := a.Status().Models; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("served %v, file has %v", got, want)
	}
}

// An entry whose last line is the value edited: its lines are measured before the edit, so the
// comment under it stays once and the new value replaces the old.
func TestRouteEditLastLine(t *testing.T) {
	a, path := newEditApp(t, commented)
	rs, v := routesNow(t, a)
	r := rs[1]
	r.Model = "gpt-4.1-mini"
	if _, err := a.SaveRoute(v, 1, r, ""); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	want := strings.Replace(commented, "model: openai/gpt-4o-mini", "model: openai/gpt-4.1-mini", 1)
	if string(got) != want {
		t.Errorf("file\n%s\nwant\n%s", got, want)
	}
}

// An edit made in a text editor meanwhile is not overwritten: the save is refused and the file
// keeps the editor's text.
func TestRouteEditRefusedWhenFileChanged(t *testing.T) {
	a, path := newEditApp(t, commented)
	rs, v := routesNow(t, a)
	edited := strings.Replace(commented, "num_retries: 2", "num_retries: 3", 1)
	if err := os.WriteFile(path, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	r := rs[1]
	r.Model = "gpt-4.1-mini"
	if _, err := a.SaveRoute(v, 1, r, ""); !errors.Is(err, ErrConfigChanged) {
		t.Fatalf("save over a changed file: %v", err)
	}
	if _, err := a.DeleteRoute(v, 1); !errors.Is(err, ErrConfigChanged) {
		t.Fatalf("delete over a changed file: %v", err)
	}
	if got, _ := os.ReadFile(path); string(got) != edited {
		t.Errorf("the editor's text was overwritten:\n%s", got)
	}
}

func TestCheckRoute(t *testing.T) {
	routes := []RouteSpec{{Name: "gpt-4o", Preset: "openai", Model: "gpt-4o"}, {Name: "mini", Preset: "openai", Model: "gpt-4o-mini"}}
	tests := []struct {
		name  string
		r     RouteSpec
		index int
		want  string // the field with a problem; "" for none
	}{
		{"fine", RouteSpec{Name: "claude", Preset: "anthropic", Model: "claude-sonnet-4-5"}, -1, ""},
		{"duplicate name", RouteSpec{Name: "mini", Preset: "openai", Model: "gpt-4.1"}, -1, "name"},
		{"rename onto another", RouteSpec{Name: "mini", Preset: "openai", Model: "gpt-4o"}, 0, "name"},
		{"keeps its own name", RouteSpec{Name: "mini", Preset: "openai", Model: "gpt-4.1-mini"}, 1, ""},
		{"no name", RouteSpec{Preset: "openai", Model: "gpt-4o"}, -1, "name"},
		{"no model", RouteSpec{Name: "x", Preset: "openai"}, -1, "model"},
		{"bad URL", RouteSpec{Name: "x", Preset: PresetCustom, Model: "m", APIBase: "localhost:8000"}, -1, "api_base"},
		{"URL needed", RouteSpec{Name: "x", Preset: "hosted_vllm", Model: "m"}, -1, "api_base"},
		{"bedrock region", RouteSpec{Name: "x", Preset: "bedrock", Model: "anthropic.claude-sonnet-4-5-v1:0"}, -1, "region"},
		{"vertex project", RouteSpec{Name: "x", Preset: "vertex_ai", Model: "gemini-2.5-pro"}, -1, "project"},
		{"bad key ref", RouteSpec{Name: "x", Preset: "openai", Model: "m", KeyRef: "sk-pasted"}, -1, "key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CheckRoute(tt.r, routes, tt.index)
			if tt.want == "" && len(got) > 0 || tt.want != "" && (len(got) != 1 || got[tt.want] == "") {
				t.Errorf("problems %v, want one on %q", got, tt.want)
			}
		})
	}
}

// A route added with a preset and a typed key: the key goes to the keychain and the file says
// keychain/NAME; Test calls the upstream with it; the gateway serves the route at once.
func TestAddRouteWithKeyTestAndServe(t *testing.T) {
	fake := fakeupstream.New()
	fake.Key = "sk-typed-key"
	up := httptest.NewServer(fake)
	defer up.Close()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	os.WriteFile(path, []byte("# mine\ngeneral_settings:\n  master_key: sk-master\nmodel_list: []\n"), 0o600)
	secrets := mapSecrets{}
	a := startApp(t, Options{ConfigPath: path, DataDir: filepath.Join(dir, "data"), Secrets: secrets})

	r := RouteSpec{Name: "house", Preset: PresetCustom, Model: "gpt-4o-mini", APIBase: up.URL + "/v1", KeyRef: "keychain/house"}
	res := a.TestRoute(context.Background(), r, "sk-typed-key")
	if !res.OK || res.Answer == "" || res.Latency <= 0 || res.InputPerMTok == nil || *res.InputPerMTok != 0.15 {
		t.Fatalf("test before saving: %+v", res)
	}
	if bad := a.TestRoute(context.Background(), r, "sk-wrong"); bad.OK || !strings.HasPrefix(bad.Error, "401") {
		t.Errorf("test with a wrong key: %+v", bad)
	}

	_, v := routesNow(t, a)
	if _, err := a.SaveRoute(v, -1, r, "sk-typed-key"); err != nil {
		t.Fatal(err)
	}
	if secrets["house"] != "sk-typed-key" {
		t.Errorf("keychain %v", secrets)
	}
	text, _ := os.ReadFile(path)
	if !strings.Contains(string(text), "api_key: keychain/house") || strings.Contains(string(text), "sk-typed-key") ||
		!strings.HasPrefix(string(text), "# mine\n") {
		t.Errorf("file:\n%s", text)
	}
	// The saved route, tested from the file with the key from the keychain.
	rs, _ := routesNow(t, a)
	if res := a.TestRoute(context.Background(), rs[0], ""); !res.OK {
		t.Errorf("test of the saved route: %+v", res)
	}
	if res := a.TestSavedRoute(context.Background(), 0); !res.OK || res.Route != "house" {
		t.Errorf("test of entry 0 as written: %+v", res)
	}
	if res := a.TestSavedRoute(context.Background(), 1); res.OK || !strings.Contains(res.Error, "gone") {
		t.Errorf("test of an entry that is not there: %+v", res)
	}
	// And served.
	req, _ := http.NewRequest("POST", a.Status().BaseURL()+"/v1/chat/completions",
		bytes.NewReader([]byte(`{"model":"house","messages":[{"role":"user","content":"hi"}]}`)))
	req.Header.Set("Authorization", "Bearer sk-master")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("served: %d %s", resp.StatusCode, body)
	}
}

// A save that would not load is refused before the file is touched.
func TestRouteSaveValidates(t *testing.T) {
	a, path := newEditApp(t, commented)
	_, v := routesNow(t, a)
	r := RouteSpec{Name: "k", Preset: "openai", Model: "gpt-4o", KeyRef: "keychain/missing"}
	if _, err := a.SaveRoute(v, -1, r, ""); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("save with a keychain name that holds nothing: %v", err)
	}
	if got, _ := os.ReadFile(path); string(got) != commented {
		t.Errorf("file changed by a refused save:\n%s", got)
	}
}

func TestPresetModels(t *testing.T) {
	for id, want := range map[string]string{"openai": "gpt-4o", "anthropic": "claude-sonnet-4-5", "openrouter": "anthropic/claude-sonnet-4.5"} {
		ms := PresetModels(id)
		found := false
		for _, m := range ms {
			found = found || m == want
		}
		if !found {
			t.Errorf("%s: %d models, none %q (first %v)", id, len(ms), want, ms[:min(5, len(ms))])
		}
	}
	if ms := PresetModels("ollama"); len(ms) != 0 {
		t.Errorf("ollama lists %v: a local server's models are typed", ms)
	}
}

// The first-run config (every comment a new user reads) survives adding, editing and deleting.
func TestRouteEditsOnExampleConfig(t *testing.T) {
	example := string(config.ExampleYAML())
	a, path := newEditApp(t, example)
	rs, v := routesNow(t, a)
	v, err := a.SaveRoute(v, -1, RouteSpec{Name: "claude", Preset: "anthropic", Model: "claude-sonnet-4-5", KeyRef: "os.environ/OPENAI_API_KEY"}, "")
	if err != nil {
		t.Fatal(err)
	}
	r := rs[0]
	r.Model = "gpt-4.1-mini"
	if v, err = a.SaveRoute(v, 0, r, ""); err != nil {
		t.Fatal(err)
	}
	if _, err = a.DeleteRoute(v, 1); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if want := strings.Replace(example, "model: openai/gpt-4o-mini", "model: openai/gpt-4.1-mini", 1); string(got) != want {
		t.Errorf("after add, edit, delete:\n%s", got)
	}
}

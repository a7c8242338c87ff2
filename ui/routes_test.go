package ui

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/clawgate/clawgate/app"
	"github.com/clawgate/clawgate/app/keychain"
	"github.com/clawgate/clawgate/internal/fakeupstream"
)

// memKeychain is the keychain seam: what the app stores, in memory.
type memKeychain map[string]string

func (m memKeychain) Get(name string) (string, error) {
	if v, ok := m[name]; ok {
		return v, nil
	}
	return "", keychain.ErrNotFound
}

func (m memKeychain) Set(name, v string) error { m[name] = v; return nil }

func (m memKeychain) Delete(name string) error { delete(m, name); return nil }

func (m memKeychain) List() ([]string, error) {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out, nil
}

// realApp runs the app service on a config file, a store and a keychain in a temp folder.
func realApp(t *testing.T, config string, secrets app.Secrets) (*app.App, string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	a, err := app.New(app.Options{ConfigPath: path, DataDir: filepath.Join(dir, "data"), Port: port, Secrets: secrets,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		a.Stop(ctx)
	})
	return a, path
}

const routesConfig = `# my gateway
general_settings:
  master_key: sk-master   # mine
model_list:
  # the only one so far
  - model_name: local
    litellm_params:
      model: ollama_chat/llama3.1
      api_base: http://127.0.0.1:9   # nothing listens here
`

// overlayButton finds a button by its text in the window's top overlay (a dialog).
func topOverlayButton(t *testing.T, w fyne.Window, text string) *widget.Button {
	t.Helper()
	top := w.Canvas().Overlays().Top()
	if top == nil {
		t.Fatalf("no dialog open (looking for %q)", text)
	}
	return button(t, top, text)
}

// The Routes tab end to end against the real app: add a route with a preset and a typed key, test
// it against a fake upstream before saving, save it (the key to the keychain, keychain/NAME to the
// file, the file's comments kept), see the gateway serve it, then Test all.
func TestRoutesAddTestServe(t *testing.T) {
	fake := fakeupstream.New()
	fake.Key = "sk-typed"
	up := httptest.NewServer(fake)
	defer up.Close()
	secrets := memKeychain{}
	svc, path := realApp(t, routesConfig, secrets)

	a := test.NewTempApp(t)
	uiQueue(t)
	g := newGUI(a, newFakeTray(), svc, Options{})
	settle(t, g)
	g.activityWin().w.Resize(fyne.NewSize(1100, 640))
	g.activityWin().show(tabRoutes)
	defer g.activityWin().hide()
	re := g.activityWin().redit
	if re == nil {
		t.Fatal("the Routes tab does not edit: *app.App lacks a routeService method")
	}
	waitFor(t, "the file's routes", func() bool { return len(g.activityWin().rrows) == 1 })
	if r := g.activityWin().rrows[0]; r[0] != "local" || r[1] != "Ollama" {
		t.Errorf("row %q", r)
	}

	test.Tap(re.add)
	f := re.form
	if f == nil || !f.save.Disabled() {
		t.Fatal("Add… opened no form, or Save is enabled on an empty form")
	}
	test.Type(f.name, "local") // taken
	if f.problem.Text == "" || !strings.Contains(f.problem.Text, "already called") || !f.save.Disabled() {
		t.Errorf("duplicate name: problem %q, save disabled %v", f.problem.Text, f.save.Disabled())
	}
	f.name.SetText("house")
	f.preset.SetSelected("OpenAI-compatible URL")
	f.model.SetText("gpt-4o-mini")
	f.apiBase.SetText("localhost:8000")
	if !strings.Contains(f.problem.Text, "not a URL") || !f.save.Disabled() {
		t.Errorf("bad URL: problem %q", f.problem.Text)
	}
	assertReadable(t, "route form with a problem", g.activityWin().w.Canvas().Overlays().Top())
	f.apiBase.SetText(up.URL + "/v1")
	f.keySource.SetSelected(keyFromKeychain)
	f.keyName.SetText("house")
	if !f.save.Disabled() {
		t.Error("Save enabled with a new keychain name and no key typed")
	}
	test.Type(f.secret, "sk-typed")
	if f.problem.Text != "" || f.save.Disabled() {
		t.Fatalf("a valid route: problem %q, save disabled %v", f.problem.Text, f.save.Disabled())
	}
	shots(t, a, g.activityWin().w, "route-form")

	test.Tap(f.test)
	waitFor(t, "the test", func() bool { return strings.Contains(f.keyHint.Text, "answered") })
	if !strings.Contains(f.keyHint.Text, "$0.15 / $0.6 per 1M") {
		t.Errorf("test line %q", f.keyHint.Text)
	}
	if fake.Requests() != 1 {
		t.Errorf("%d upstream requests for one test", fake.Requests())
	}

	test.Tap(f.save)
	waitFor(t, "the saved route", func() bool { return len(g.activityWin().rrows) == 2 })
	if secrets["house"] != "sk-typed" {
		t.Errorf("keychain %v", secrets)
	}
	text, _ := os.ReadFile(path)
	for _, want := range []string{"# my gateway\n", "master_key: sk-master   # mine\n", "  # the only one so far\n",
		"api_base: http://127.0.0.1:9   # nothing listens here\n", "api_key: keychain/house\n"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("config lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(string(text), "sk-typed") {
		t.Error("the key itself was written to config.yaml")
	}

	// Served at once.
	req, _ := http.NewRequest("POST", svc.Status().BaseURL()+"/v1/chat/completions",
		bytes.NewReader([]byte(`{"model":"house","messages":[{"role":"user","content":"hi"}]}`)))
	req.Header.Set("Authorization", "Bearer sk-master")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("the new route is not served: %d", resp.StatusCode)
	}

	// Test all: the new route answers, the local one (nothing listening) fails; the summary says so.
	test.Tap(re.testAll)
	waitFor(t, "the tests", func() bool { return strings.Contains(re.status.Text, "routes answered") })
	if re.status.Text != "1 of 2 routes answered; failed: local." {
		t.Errorf("summary %q", re.status.Text)
	}
	if c := g.activityWin().rrows[1][7]; !strings.HasPrefix(c, "ok, ") {
		t.Errorf("house's Last test %q", c)
	}
	if c := g.activityWin().rrows[0][7]; !strings.HasPrefix(c, "failed: ") {
		t.Errorf("local's Last test %q", c)
	}
	shots(t, a, g.activityWin().w, "routes-editing")
}

// Edit, duplicate and delete from the tab; an edit made in a text editor meanwhile is not
// overwritten: the form says so, re-reads the file, and saves against the new version when asked again.
func TestRoutesEditDuplicateDelete(t *testing.T) {
	svc, path := realApp(t, routesConfig, memKeychain{})
	a := test.NewTempApp(t)
	uiQueue(t)
	g := newGUI(a, newFakeTray(), svc, Options{})
	settle(t, g)
	g.activityWin().show(tabRoutes)
	defer g.activityWin().hide()
	re := g.activityWin().redit
	waitFor(t, "the file's routes", func() bool { return len(g.activityWin().rrows) == 1 })

	g.activityWin().routes.table.Select(widget.TableCellID{Row: 0, Col: 0})
	test.Tap(re.dup)
	waitFor(t, "the copy", func() bool { return len(g.activityWin().rrows) == 2 })
	if g.activityWin().rrows[1][0] != "local-copy" || re.status.Text != "Copied as local-copy." {
		t.Errorf("copy row %q, status %q", g.activityWin().rrows[1], re.status.Text)
	}

	// Edit the copy while an editor changes the file underneath.
	g.activityWin().routes.table.Select(widget.TableCellID{Row: 1, Col: 0})
	test.Tap(re.edit)
	f := re.form
	if f.name.Text != "local-copy" || f.preset.Selected != "Ollama" || f.model.Text != "llama3.1" {
		t.Fatalf("form filled with %q %q %q", f.name.Text, f.preset.Selected, f.model.Text)
	}
	f.model.SetText("qwen3")
	text, _ := os.ReadFile(path)
	edited := strings.Replace(string(text), "# my gateway", "# my gateway, edited by hand", 1)
	os.WriteFile(path, []byte(edited), 0o600)
	test.Tap(f.save)
	waitFor(t, "the refusal", func() bool { return strings.Contains(f.problem.Text, "changed on disk") })
	if got, _ := os.ReadFile(path); string(got) != edited {
		t.Fatalf("the hand edit was overwritten:\n%s", got)
	}
	waitFor(t, "the new version", func() bool { return f.ver != "" && !f.save.Disabled() })
	test.Tap(f.save)
	waitFor(t, "the save", func() bool { return strings.HasPrefix(re.status.Text, "local-copy saved") })
	got, _ := os.ReadFile(path)
	if !strings.Contains(string(got), "# my gateway, edited by hand") || !strings.Contains(string(got), "model: ollama_chat/qwen3") {
		t.Errorf("after the second save:\n%s", got)
	}

	// Delete asks first.
	g.activityWin().routes.table.Select(widget.TableCellID{Row: 1, Col: 0})
	test.Tap(re.del)
	test.Tap(topOverlayButton(t, g.activityWin().w, "Yes"))
	waitFor(t, "the delete", func() bool { return len(g.activityWin().rrows) == 1 })
	if models := svc.Status().Models; len(models) != 1 || models[0] != "local" {
		t.Errorf("served after the delete: %v", models)
	}
}

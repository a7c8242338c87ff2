package app

import (
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/internal/fakeupstream"
)

const fbRoutes = "general_settings:\n  master_key: sk-master\nmodel_list:\n" +
	"  - model_name: main\n    litellm_params:\n      model: openai/gpt-4o\n      api_base: http://127.0.0.1:9/v1\n      api_key: sk-x\n" +
	"  - model_name: claude\n    litellm_params:\n      model: openai/c\n      api_base: %A%/v1\n      api_key: sk-x\n" +
	"  - model_name: gemini\n    litellm_params:\n      model: openai/g\n      api_base: %B%/v1\n      api_key: sk-x\n"

func TestMoveFallback(t *testing.T) {
	tests := []struct {
		name      string
		router    string
		chain, at int
		delta     int
		want      string
		wantErr   string
	}{
		{"flow, quoted", "router_settings:\n  fallbacks: [{\"main\": [\"claude\", \"gemini\"]}] # keep\n", 0, 0, 1,
			"router_settings:\n  fallbacks: [{\"main\": [\"gemini\", \"claude\"]}] # keep\n", ""},
		{"flow, mixed quoting", "router_settings:\n  fallbacks: [{main: ['claude', gemini]}]\n", 0, 1, -1,
			"router_settings:\n  fallbacks: [{main: [gemini, 'claude']}]\n", ""},
		{"block lists", "router_settings:\n  fallbacks:\n    - claude: [main]\n    - main:\n        - claude   # first\n        - gemini\n", 1, 0, 1,
			"router_settings:\n  fallbacks:\n    - claude: [main]\n    - main:\n        - gemini   # first\n        - claude\n", ""},
		{"past the end", "router_settings:\n  fallbacks: [{main: [claude, gemini]}]\n", 0, 1, 1, "", "cannot move"},
		{"a single name", "router_settings:\n  fallbacks: [{main: claude}]\n", 0, 0, 1, "", "no such fallback list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := strings.NewReplacer("%A%", "http://127.0.0.1:9", "%B%", "http://127.0.0.1:9").Replace(fbRoutes) + tt.router
			a, path := newEditApp(t, text)
			_, v, err := a.Fallbacks()
			if err != nil {
				t.Fatal(err)
			}
			_, err = a.MoveFallback(v, tt.chain, tt.at, tt.delta)
			got, _ := os.ReadFile(path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || string(got) != text {
					t.Fatalf("err %v, file changed %v", err, string(got) != text)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := strings.TrimSuffix(text, tt.router) + tt.want; string(got) != want {
				t.Fatalf("file:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// A reordered fallback list is in force at once: with main down, the first fallback answers.
func TestMoveFallbackServes(t *testing.T) {
	upA, upB := fakeupstream.New(), fakeupstream.New()
	sa, sb := httptest.NewServer(upA), httptest.NewServer(upB)
	defer sa.Close()
	defer sb.Close()
	text := strings.NewReplacer("%A%", sa.URL, "%B%", sb.URL).Replace(fbRoutes) +
		"router_settings:\n  num_retries: 0\n  fallbacks: [{main: [claude, gemini]}]\n"
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	os.WriteFile(path, []byte(text), 0o600)
	a := startApp(t, Options{ConfigPath: path, DataDir: filepath.Join(dir, "data"), Secrets: mapSecrets{}})
	chatOnce(t, a, "main")
	if upA.Requests() != 1 || upB.Requests() != 0 {
		t.Fatalf("before: claude %d, gemini %d", upA.Requests(), upB.Requests())
	}
	fb, v, _ := a.Fallbacks()
	if len(fb) != 1 || fb[0].Group != "main" || !slices.Equal(fb[0].To, []string{"claude", "gemini"}) {
		t.Fatalf("Fallbacks = %+v", fb)
	}
	v2, err := a.MoveFallback(v, 0, 1, -1)
	if err != nil {
		t.Fatal(err)
	}
	chatOnce(t, a, "main")
	if upB.Requests() != 1 || upA.Requests() != 1 {
		t.Fatalf("after: claude %d, gemini %d; want gemini first", upA.Requests(), upB.Requests())
	}
	if _, err := a.MoveFallback(v, 0, 0, 1); !errors.Is(err, ErrConfigChanged) {
		t.Errorf("a move against the old version: %v", err)
	}
	if fb, v3, _ := a.Fallbacks(); v3 != v2 || !slices.Equal(fb[0].To, []string{"gemini", "claude"}) {
		t.Errorf("after the move: %+v", fb)
	}
}

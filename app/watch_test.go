package app

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestWatcherWaitsOutAnEmptyFile: an editor that truncates the file and writes it 0.6 s later (as
// the attack on issue 10 did) must not get the empty file reloaded: the watcher gives an empty
// file more time, and the first reload sees the new content.
func TestWatcherWaitsOutAnEmptyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte("model_list: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	seen := make(chan string, 8)
	w, err := watchConfig(path, func() {
		b, _ := os.ReadFile(path)
		seen <- string(b)
	}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// The editor's pause: longer than the debounce, shorter than debounce + settle.
	<-time.After(600 * time.Millisecond)
	const full = "model_list:\n  - model_name: m\n    litellm_params: {model: openai/gpt-4o-mini}\n"
	if err := os.WriteFile(path, []byte(full), 0o600); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-seen:
		if got != full {
			t.Errorf("the first reload saw %q, want the whole new file", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no reload after the file was written")
	}
}

package fuzzstat

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestCountsReachTheFile: with a folder set, the first count writes <folder>/<pid>, and Reach
// returns what it was given.
func TestCountsReachTheFile(t *testing.T) {
	old := dir
	dir = t.TempDir()
	t.Cleanup(func() { dir = old })
	mu.Lock()
	reached, early, last = 0, 0, last.AddDate(-1, 0, 0)
	mu.Unlock()
	if !Reach(true) || Reach(false) {
		t.Fatal("Reach does not return its argument")
	}
	Reached()
	Early()
	b, err := os.ReadFile(filepath.Join(dir, fmt.Sprint(os.Getpid())))
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "reached 1 early 0\n" { // later counts wait for the next 200 ms
		t.Errorf("file holds %q", b)
	}
	mu.Lock()
	defer mu.Unlock()
	if reached != 2 || early != 2 {
		t.Errorf("counted reached %d early %d, want 2 and 2", reached, early)
	}
}

package app

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestLineDiff(t *testing.T) {
	got := lineDiff("a\nb\nc\nd\n", "a\nB\nc\nd\ne\n")
	want := []string{"  a", "- b", "+ B", "  d", "+ e"}
	if !slices.Equal(got, want) {
		t.Errorf("diff %q, want %q", got, want)
	}
	if d := lineDiff("x\n", "x\n"); d != nil {
		t.Errorf("no change: %q", d)
	}
}

// The preview is exactly what Connect then writes: applying its +/- lines to the old file gives
// the new one, and nothing is written by the preview itself.
func TestOpenClawPreviewMatchesConnect(t *testing.T) {
	f := newOpenClawFixture(t)
	a := startApp(t, f.opts)
	path, diff, err := a.OpenClawPreview(context.Background())
	if err != nil || path != f.oc || len(diff) == 0 {
		t.Fatalf("preview %s %q %v", path, diff, err)
	}
	if b, _ := os.ReadFile(f.oc); string(b) != f.orig {
		t.Fatal("the preview wrote OpenClaw's config")
	}
	if err := a.ConnectOpenClaw(); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(f.oc)
	if got := lineDiff(f.orig, string(after)); !slices.Equal(got, diff) {
		t.Errorf("written change:\n%s\npreviewed:\n%s", strings.Join(got, "\n"), strings.Join(diff, "\n"))
	}
	if _, again, _ := a.OpenClawPreview(context.Background()); len(again) != 0 {
		t.Errorf("after connecting, the preview still changes %q", again)
	}
}

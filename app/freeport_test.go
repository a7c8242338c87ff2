package app

import (
	"context"
	"net"
	"testing"
)

// --port 0 means any free port, not the default 4000; the status says which was taken.
func TestFreePort(t *testing.T) {
	a, err := New(Options{Model: "gpt-4o-mini", FreePort: true, DataDir: t.TempDir(), Logger: quiet(), NoKeychain: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop(context.Background()) })
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, port, err := net.SplitHostPort(a.Status().Addr)
	if err != nil || port == "0" || port == "4000" {
		t.Fatalf("addr %q (%v)", a.Status().Addr, err)
	}
}

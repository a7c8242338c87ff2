package ledger

import (
	"context"
	"testing"
)

// What following other processes' key changes costs a request (see keysync.go):
//
//   - between checks: a clock read and an atomic load, on every lookup;
//   - due: one indexed read of key_changes past the last seq (nothing there, the usual case),
//     at most once per keySyncInterval whatever the request rate;
//   - authenticate: a whole key lookup with the check between checks, for scale.
func BenchmarkKeySync(b *testing.B) {
	ctx := context.Background()
	l, err := Open(ctx, Options{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = l.Close(ctx) })
	key, _, err := l.GenerateKey(ctx, KeyRequest{})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := l.Authenticate(ctx, key); err != nil {
		b.Fatal(err)
	}
	b.Run("between checks", func(b *testing.B) {
		for b.Loop() {
			l.syncKeys(ctx)
		}
	})
	b.Run("due", func(b *testing.B) {
		for b.Loop() {
			l.ks.next.Store(0)
			l.syncKeys(ctx)
		}
	})
	b.Run("authenticate", func(b *testing.B) {
		for b.Loop() {
			if _, err := l.Authenticate(ctx, key); err != nil {
				b.Fatal(err)
			}
		}
	})
}

package ledger

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/clawgate/clawgate/proxy"
)

// BenchmarkAdmitDone is what the gate costs a request: Admit then Done, in memory (one process)
// and in shared mode (holds in the database, SQLite here), without and with a key's rate limits.
// The spend log writer runs as in production (its batches share the database with the holds).
func BenchmarkAdmitDone(b *testing.B) {
	for _, shared := range []bool{false, true} {
		for _, limits := range []bool{false, true} {
			name := map[bool]string{false: "memory", true: "shared"}[shared]
			if limits {
				name += "+limits"
			}
			b.Run(name, func(b *testing.B) { benchAdmitDone(b, shared, limits) })
		}
	}
}

func benchAdmitDone(b *testing.B, shared, limits bool) {
	ctx := context.Background()
	l, err := Open(ctx, Options{DataDir: b.TempDir(), Shared: shared, FlushInterval: 50 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close(ctx)
	limit := 1e9
	q := KeyRequest{MaxBudget: &limit}
	if limits {
		many := int64(1 << 40)
		q.RPMLimit, q.TPMLimit, q.MaxParallelRequests = &many, &many, &many
	}
	_, k, err := l.GenerateKey(ctx, q)
	if err != nil {
		b.Fatal(err)
	}
	p := &proxy.Principal{KeyHash: k.Token}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		a, err := l.Admit(ctx, p, "exact", 0.001, 100)
		if err != nil {
			b.Fatal(err)
		}
		now := time.Now()
		a.Done(&proxy.Usage{CallID: fmt.Sprintf("bench-%d", i), CallType: "acompletion", Principal: p, ModelGroup: "exact",
			PromptTokens: 19, CompletionTokens: 10, UsageKnown: true, Cost: 0.0011, Priced: true, Start: now, End: now, Status: 200})
	}
	b.StopTimer()
}

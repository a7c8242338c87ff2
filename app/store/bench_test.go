package store

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkInsertSpendLogs compares one transaction per row (what writing on the request path would
// cost) with the Writer's batches. Reported as rows/s.
func BenchmarkInsertSpendLogs(b *testing.B) {
	for _, e := range engines {
		b.Run(string(e), func(b *testing.B) { benchmarkInsertSpendLogs(b, e) })
	}
}

func benchmarkInsertSpendLogs(b *testing.B, e engine) {
	for _, batch := range []int{1, 64, 512} {
		name := fmt.Sprintf("batch=%d", batch)
		if batch == 1 {
			name = "autocommit"
		}
		b.Run(name, func(b *testing.B) {
			s := e.open(b)
			ctx := context.Background()
			if err := s.CreateKey(ctx, Key{Token: "k"}); err != nil {
				b.Fatal(err)
			}
			logs := make([]SpendLog, batch)
			n := 0
			b.ResetTimer()
			for b.Loop() {
				for j := range logs {
					logs[j] = mkLog(fmt.Sprintf("r%d", n), "k", 0.001, t0.Add(time.Duration(n)*time.Millisecond))
					n++
				}
				if err := s.InsertSpendLogs(ctx, logs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkWriterThroughput is rows/s sustained through Add by parallel callers until Close has
// written them all. The callers outrun the disk, so Add waits on the full queue here: this is the
// Writer's ceiling, not what one Add costs when the queue has room (a channel send).
func BenchmarkWriterThroughput(b *testing.B) {
	s := openTest(b)
	w := s.NewWriter(WriterOptions{})
	var n atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			w.Add(mkLog(fmt.Sprintf("r%d", i), "", 0.001, t0))
		}
	})
	if err := w.Close(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(n.Load())/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkGetKeyDuringWrites measures the auth path's key lookup while a Writer commits batches,
// with the store's separate read pool and with reads sharing the single writer connection: the
// measurement behind having two pools.
func BenchmarkGetKeyDuringWrites(b *testing.B) {
	for _, mode := range []string{"read-pool", "one-connection"} {
		b.Run(mode, func(b *testing.B) {
			s := openTest(b)
			ctx := context.Background()
			if err := s.CreateKey(ctx, Key{Token: "k", Models: []string{"*"}}); err != nil {
				b.Fatal(err)
			}
			reads := s.r
			if mode == "one-connection" {
				s.r = s.w
				defer func() { s.r = reads }()
			}
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { // a steady stream of 512-row batches
				defer wg.Done()
				logs := make([]SpendLog, 512)
				for n := 0; ; {
					select {
					case <-stop:
						return
					default:
					}
					for j := range logs {
						logs[j] = mkLog(fmt.Sprintf("r%d", n), "k", 0.001, t0)
						n++
					}
					if err := s.InsertSpendLogs(ctx, logs); err != nil {
						b.Error(err)
						return
					}
				}
			}()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := s.GetKey(ctx, "k"); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			close(stop)
			wg.Wait()
		})
	}
}

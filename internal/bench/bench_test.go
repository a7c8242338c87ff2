package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/clawgate/clawgate/internal/fakeupstream"
)

func TestPct(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var out []time.Duration
		for _, x := range v {
			out = append(out, time.Duration(x)*time.Millisecond)
		}
		return out
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one", ms(7), 99, 7 * time.Millisecond},
		{"median of ten", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 50, 5 * time.Millisecond},
		{"p99 of ten", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10 * time.Millisecond},
		{"p0 clamps", ms(1, 2, 3), 0, time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pct(tt.sorted, tt.p); got != tt.want {
				t.Errorf("pct(%v) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
}

// TestLoad drives the fake upstream directly and through the bare proxy, as the bench does,
// and expects complete answers only.
func TestLoad(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fake := fakeupstream.New()
	fake.Key = upstreamKey
	up, err := serve(ctx, fake)
	if err != nil {
		t.Fatal(err)
	}
	p, err := bareProxy(up, 4)
	if err != nil {
		t.Fatal(err)
	}
	bare, err := serve(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	client := newClient(4)
	for _, tg := range []target{
		{name: "direct", url: up + "/v1/chat/completions", key: upstreamKey},
		{name: "bare proxy", url: bare + "/v1/chat/completions", key: upstreamKey},
		{name: "wrong key", url: up + "/v1/chat/completions", key: "nope"},
	} {
		for _, m := range []mode{{name: "non-stream", model: "bench"}, {name: "stream", model: "bench", stream: true}} {
			t.Run(tg.name+"/"+m.name, func(t *testing.T) {
				r := load(ctx, client, tg, m, 4, 100*time.Millisecond)
				r.sort()
				if tg.name == "wrong key" {
					if r.requests != 0 || r.errors == 0 || !strings.Contains(r.firstErr.Error(), "401") {
						t.Errorf("want only 401 errors, got %d ok, %d errors, %v", r.requests, r.errors, r.firstErr)
					}
					return
				}
				if r.errors != 0 || r.requests == 0 {
					t.Fatalf("%d ok, %d errors, first %v", r.requests, r.errors, r.firstErr)
				}
				if len(r.latency) != r.requests || r.rps() <= 0 {
					t.Errorf("%d latencies for %d requests, %.0f req/s", len(r.latency), r.requests, r.rps())
				}
				if m.stream {
					if len(r.ttfb) != r.requests || pct(r.ttfb, 50) > pct(r.latency, 50) {
						t.Errorf("ttfb p50 %v, latency p50 %v", pct(r.ttfb, 50), pct(r.latency, 50))
					}
				} else if len(r.ttfb) != 0 {
					t.Errorf("ttfb recorded for non-streamed requests")
				}
			})
		}
	}
}

func TestReport(t *testing.T) {
	flat := func(n int, d time.Duration) *result {
		r := &result{requests: n, elapsed: time.Second}
		for range n {
			r.latency = append(r.latency, d)
			r.ttfb = append(r.ttfb, d/2)
		}
		return r
	}
	fast := mode{name: "non-stream", model: "bench"}
	slow := mode{name: "stream 2ms/chunk", model: "bench-slow", stream: true}
	tests := []struct {
		name     string
		clawgate *result
		want     []string
	}{
		// direct 1 ms, bare 2 ms (adds 1 ms), 1000 req/s and first byte 1 ms.
		{"within targets", flat(900, 2200*time.Microsecond), []string{
			"non-stream: added p50 (1.200 vs 1.000 ms) | 1.20x | ≤ 1.3x | PASS",
			"non-stream: throughput (900 vs 1000 req/s) | 90% | ≥ 80% | PASS",
			"first byte p50 (1.100 vs 1.000 ms) | 1.10x | ≤ 1.3x | PASS",
		}},
		{"over targets", flat(700, 3*time.Millisecond), []string{
			"| 2.00x | ≤ 1.3x | MISS",
			"| 70% | ≥ 80% | MISS",
			"first byte p50 (1.500 vs 1.000 ms) | 1.50x | ≤ 1.3x | MISS",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rows []row
			for _, m := range []mode{fast, slow} {
				rows = append(rows,
					row{mode: m, target: "direct", r: flat(2000, time.Millisecond)},
					row{mode: m, target: "bare proxy", r: flat(1000, 2*time.Millisecond)},
					row{mode: m, target: "clawgate", r: tt.clawgate})
			}
			var buf bytes.Buffer
			report(&buf, options{concurrency: 16, duration: time.Second, rounds: 1}, rows, memory{peak: 30 << 20, rss: 20 << 20}, 0.1)
			out := buf.String()
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("report lacks %q:\n%s", w, out)
				}
			}
			if !strings.Contains(out, "peak RSS (VmHWM) 30.0 MiB") {
				t.Errorf("report lacks peak RSS:\n%s", out)
			}
		})
	}
}

func TestProc(t *testing.T) {
	pid := os.Getpid()
	for _, field := range []string{"VmHWM", "VmRSS"} {
		t.Run(field, func(t *testing.T) {
			v, err := procStatus(pid, field)
			if err != nil || v < 1<<20 {
				t.Errorf("procStatus(%s) = %d, %v", field, v, err)
			}
		})
	}
	if _, err := procStatus(pid, "NoSuchField"); err == nil {
		t.Error("procStatus of a missing field: want an error")
	}
	if _, err := cpuTime(pid); err != nil {
		t.Errorf("cpuTime: %v", err)
	}
}

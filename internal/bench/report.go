package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"time"
)

type row struct {
	mode   mode
	target string
	r      *result
}

type memory struct{ peak, rss int64 }

// The targets for clawgate against the bare proxy.
const (
	maxAddedRatio = 1.3 // added p50 latency
	minRPSRatio   = 0.8 // throughput
	maxTTFBRatio  = 1.3 // first streamed byte
)

func ms(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d)/float64(time.Millisecond)) }

// report prints Markdown tables, ready to paste into a README.
func report(w io.Writer, o options, rows []row, mem memory, load float64) {
	fmt.Fprintf(w, "\n### Clawgate gateway overhead\n\n")
	fmt.Fprintf(w, "%d concurrent requests, %v per target and kind (%d interleaved rounds), one tuned client; "+
		"fake upstream in-process; bare proxy and clawgate each in their own process; %s/%s, %d CPUs, %s, load average %.1f before the run.\n\n",
		o.concurrency, o.duration, o.rounds, runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(), load)
	fmt.Fprintln(w, "| kind | target | requests | errors | req/s | p50 ms | p99 ms | added p50 ms | added p99 ms | first byte p50 ms | CPU µs/req | reads+writes/req | upstream conns |")
	fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	byKey := index(rows)
	for _, x := range rows {
		l := latencies(x, byKey)
		ttfb := "–"
		if x.mode.stream {
			ttfb = ms(pct(x.r.ttfb, 50))
		}
		cpu := cpuPerRequest(x.r)
		calls := "–"
		if n := x.r.requests; n > 0 && x.r.io != (sysIO{}) {
			calls = fmt.Sprintf("%.1f+%.1f", float64(x.r.io.reads)/float64(n), float64(x.r.io.writes)/float64(n))
		}
		fmt.Fprintf(w, "| %s | %s | %d | %d | %.0f | %s | %s | %s | %s | %s | %s | %s | %d |\n",
			x.mode.name, x.target, x.r.requests, x.r.errors, x.r.rps(), l.p50, l.p99, l.added50, l.added99, ttfb, cpu, calls, x.r.upstreamConns)
	}

	fmt.Fprintln(w, "\n| clawgate vs bare proxy | measured | target | result |")
	fmt.Fprintln(w, "|---|--:|--:|---|")
	for _, x := range rows {
		if x.target != "clawgate" {
			continue
		}
		direct, bare := byKey[x.mode.name+"/direct"], byKey[x.mode.name+"/bare proxy"]
		cg := x.r
		if x.mode.model == "bench" {
			// Added latency: a ratio of two small differences, so undefined when the bare one is not positive.
			bareAdded := pct(bare.latency, 50) - pct(direct.latency, 50)
			cgAdded := pct(cg.latency, 50) - pct(direct.latency, 50)
			if bareAdded > 0 {
				ratio := float64(cgAdded) / float64(bareAdded)
				fmt.Fprintf(w, "| %s: added p50 (%s vs %s ms) | %.2fx | ≤ %.1fx | %s |\n",
					x.mode.name, ms(cgAdded), ms(bareAdded), ratio, maxAddedRatio, verdict(ratio <= maxAddedRatio))
			} else {
				fmt.Fprintf(w, "| %s: added p50 (%s vs %s ms) | n/a | ≤ %.1fx | n/a |\n", x.mode.name, ms(cgAdded), ms(bareAdded), maxAddedRatio)
			}
			ratio := cg.rps() / bare.rps()
			fmt.Fprintf(w, "| %s: throughput (%.0f vs %.0f req/s) | %.0f%% | ≥ %.0f%% | %s |\n",
				x.mode.name, cg.rps(), bare.rps(), 100*ratio, 100*minRPSRatio, verdict(ratio >= minRPSRatio))
		}
		if x.mode.stream && x.mode.model != "bench" {
			c50, b50 := pct(cg.ttfb, 50), pct(bare.ttfb, 50)
			ratio := float64(c50) / float64(b50)
			fmt.Fprintf(w, "| %s: first byte p50 (%s vs %s ms) | %.2fx | ≤ %.1fx | %s |\n",
				x.mode.name, ms(c50), ms(b50), ratio, maxTTFBRatio, verdict(ratio <= maxTTFBRatio))
		}
	}

	fmt.Fprintln(w)
	fmt.Fprintf(w, "clawgate memory after the run: peak RSS (VmHWM) %.1f MiB, RSS %.1f MiB.", mib(mem.peak), mib(mem.rss))
	fmt.Fprintln(w)
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// finish sorts a target's merged result, says on stderr how it went, and makes its row.
func finish(m mode, target string, r *result) row {
	r.sort()
	fmt.Fprintf(os.Stderr, "bench: %-28s %-10s %7d requests %5d errors\n", m.name, target, r.requests, r.errors)
	if r.firstErr != nil {
		fmt.Fprintf(os.Stderr, "bench:   first error: %v\n", r.firstErr)
	}
	return row{mode: m, target: target, r: r}
}

// index keys rows by "kind/target".
func index(rows []row) map[string]*result {
	byKey := map[string]*result{}
	for _, x := range rows {
		byKey[x.mode.name+"/"+x.target] = x.r
	}
	return byKey
}

// rowLatency is a row's latency columns, formatted.
type rowLatency struct{ p50, p99, added50, added99 string }

// latencies formats x's p50 and p99 and what they add to the direct call's of the same kind.
func latencies(x row, byKey map[string]*result) rowLatency {
	direct := byKey[x.mode.name+"/direct"]
	p50, p99 := pct(x.r.latency, 50), pct(x.r.latency, 99)
	l := rowLatency{p50: ms(p50), p99: ms(p99), added50: "–", added99: "–"}
	if x.target != "direct" {
		l.added50, l.added99 = ms(p50-pct(direct.latency, 50)), ms(p99-pct(direct.latency, 99))
	}
	return l
}

// cpuPerRequest is the serving processes' CPU time per request in µs (100 Hz clock: coarse, but
// phases are long), or "–" when not measured.
func cpuPerRequest(r *result) string {
	if r.cpu <= 0 || r.requests == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f", float64(r.cpu)/float64(time.Microsecond)/float64(r.requests))
}

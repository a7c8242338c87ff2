package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/clawgate/clawgate/internal/fakeupstream"
)

// soloName is the baseline target: one replica on its own SQLite folder, no load balancer.
const soloName = "1 replica, own SQLite folder"

// The team row: what it costs to run Clawgate as a team does (docs/deploy/), against one
// `clawgate serve` on its own SQLite folder. Four targets take the same load in interleaved rounds:
// the fake upstream directly; one replica on its own SQLite folder; HAProxy (TLS, the documented
// configuration) in front of one replica; and HAProxy in front of three replicas sharing one
// database: a SQLite folder, or the PostgreSQL database given by -database-url.

// teamTarget is one way in, with the processes whose CPU time it costs.
type teamTarget struct {
	target
	pids []int
}

func runTeam(ctx context.Context, o options) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	up := fakeupstream.New()
	up.Key = upstreamKey
	upURL, err := serve(ctx, up)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "clawgate-bench-team-")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	config, err := writeConfig(dir, upURL, upURL, upstreamKey, masterKey, "gpt-4o-mini")
	if err != nil {
		return err
	}
	pem := filepath.Join(dir, "haproxy.pem")
	pool, err := selfSigned(pem)
	if err != nil {
		return fmt.Errorf("certificate: %w", err)
	}
	client := newClient(o.concurrency)
	client.Transport.(*http.Transport).TLSClientConfig = &tls.Config{RootCAs: pool}

	// DATABASE_URL= keeps a URL in the bench's own environment away from the SQLite ones.
	solo, err := startServe(ctx, o.clawgate, dir, config, filepath.Join(dir, "solo"), "DATABASE_URL=")
	if err != nil {
		return err
	}
	defer solo.stop()
	var replicas []*gateway
	for i := range 3 {
		data, env := filepath.Join(dir, "shared"), "DATABASE_URL="
		if o.databaseURL != "" {
			data, env = filepath.Join(dir, fmt.Sprintf("r%d", i+1)), "DATABASE_URL="+o.databaseURL
		}
		g, err := startServe(ctx, o.clawgate, dir, config, data, env)
		if err != nil {
			return err
		}
		defer g.stop()
		replicas = append(replicas, g)
	}
	ports := make([]int, len(replicas))
	for i, g := range replicas {
		fmt.Sscanf(g.base[strings.LastIndexByte(g.base, ':')+1:], "%d", &ports[i])
	}
	lb1, err := startHAProxy(ctx, filepath.Join(dir, "lb1"), pem, ports[:1], client)
	if err != nil {
		return err
	}
	defer lb1.stop()
	lb3, err := startHAProxy(ctx, filepath.Join(dir, "lb3"), pem, ports, client)
	if err != nil {
		return err
	}
	defer lb3.stop()

	// A virtual key with a budget on each database, as each member of a team has: every request
	// is authenticated, reserved against the budget and settled.
	soloKey, err := mintKey(ctx, client, solo.base)
	if err != nil {
		return err
	}
	teamKey, err := mintKey(ctx, client, replicas[0].base)
	if err != nil {
		return err
	}
	const path = "/v1/chat/completions"
	dbName := "SQLite, one shared folder"
	db := "one SQLite data folder shared by the three replicas (WAL, several processes on one file)"
	if o.databaseURL != "" {
		dbName = "PostgreSQL"
		var conns int
		if db, conns, err = describePostgres(ctx, o.databaseURL); err != nil {
			return err
		}
		if conns == 0 {
			return fmt.Errorf("the replicas opened no connection to %s: this clawgate serve does not use DATABASE_URL, so there are no PostgreSQL figures to take", db)
		}
	}
	targets := []teamTarget{
		{target: target{name: "direct", url: upURL + path, key: upstreamKey}},
		{target: target{name: soloName, url: solo.base + path, key: soloKey}, pids: []int{solo.pid()}},
		{target: target{name: "HAProxy + 1 replica, " + dbName, url: lb1.base + path, key: teamKey}, pids: []int{lb1.pid(), replicas[0].pid()}},
		{target: target{name: "HAProxy + 3 replicas, " + dbName, url: lb3.base + path, key: teamKey},
			pids: []int{lb3.pid(), replicas[0].pid(), replicas[1].pid(), replicas[2].pid()}},
	}
	modes := []mode{{name: "non-stream", model: "bench"}, {name: "stream", model: "bench", stream: true}}
	per := o.duration / time.Duration(o.rounds)
	load0 := loadAvg()
	fmt.Fprintf(os.Stderr, "bench: team row: %d concurrent, %v per target and kind in %d rounds\n", o.concurrency, o.duration, o.rounds)
	var rows []row
	for _, m := range modes {
		results := make([]*result, len(targets))
		for i, t := range targets {
			load(ctx, client, t.target, m, o.concurrency, o.warmup)
			results[i] = &result{}
		}
		for range o.rounds {
			for i, t := range targets {
				cpu0 := cpuOf(t.pids)
				r := load(ctx, client, t.target, m, o.concurrency, per)
				r.cpu = cpuOf(t.pids) - cpu0
				results[i].merge(r)
				if ctx.Err() != nil {
					return ctx.Err()
				}
			}
		}
		for i, t := range targets {
			rows = append(rows, finish(m, t.name, results[i]))
		}
	}
	for _, g := range append([]*gateway{solo}, replicas...) {
		select {
		case <-g.done:
			return fmt.Errorf("a clawgate replica exited during the run:\n%s", g.output())
		default:
		}
	}
	reportTeam(os.Stdout, o, rows, db, load0)
	return nil
}

// cpuOf sums the CPU time of pids (0 for a process it cannot read).
func cpuOf(pids []int) time.Duration {
	var sum time.Duration
	for _, p := range pids {
		if c, err := cpuTime(p); err == nil {
			sum += c
		}
	}
	return sum
}

// mintKey creates a virtual key with a budget no run spends, through base's /key/generate.
func mintKey(ctx context.Context, client *http.Client, base string) (string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/key/generate",
		bytes.NewReader([]byte(`{"key_alias":"bench-team","max_budget":1000000}`)))
	req.Header.Set("Authorization", "Bearer "+masterKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("key/generate: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out struct {
		Key string `json:"key"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &out) != nil || out.Key == "" {
		return "", fmt.Errorf("key/generate on %s: %s %.200s", base, resp.Status, body)
	}
	return out.Key, nil
}

// describePostgres describes the server at url for the report, and counts the connections other
// than its own to the database: with the replicas up, none means they ignored DATABASE_URL.
func describePostgres(ctx context.Context, url string) (string, int, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return "", 0, fmt.Errorf("open %s: %w", url, err)
	}
	defer db.Close()
	var version, fsync string
	var conns int
	err = db.QueryRowContext(ctx, `SELECT current_setting('server_version'), current_setting('fsync'),
		(SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid())`).Scan(&version, &fsync, &conns)
	if err != nil {
		return "", 0, fmt.Errorf("query PostgreSQL: %w", err)
	}
	return fmt.Sprintf("PostgreSQL %s (fsync=%s), %d connections from the replicas", version, fsync, conns), conns, nil
}

// reportTeam prints the team row as Markdown, with the machine it ran on.
func reportTeam(w io.Writer, o options, rows []row, db string, load float64) {
	fmt.Fprintf(w, "\n### Team deployment: replicas behind HAProxy\n\n")
	fmt.Fprintf(w, "%d concurrent requests, %v per target and kind (%d interleaved rounds), a virtual key with a budget on every request; "+
		"HAProxy %s with docs/deploy/haproxy.cfg, TLS from the client to HAProxy, plain HTTP to the replicas; fake upstream in-process. "+
		"Database: %s. Machine: %s; %s/%s, %s, load average %.1f before the run. "+
		"Everything (client, upstream, HAProxy, replicas, database) shares these CPUs.\n\n",
		o.concurrency, o.duration, o.rounds, haproxyVersion(), db, machine(), runtime.GOOS, runtime.GOARCH, runtime.Version(), load)
	fmt.Fprintln(w, "| kind | target | requests | errors | req/s | p50 ms | p99 ms | added p50 ms | added p99 ms | CPU µs/req (replicas + HAProxy) |")
	fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|")
	byKey := index(rows)
	for _, x := range rows {
		l := latencies(x, byKey)
		fmt.Fprintf(w, "| %s | %s | %d | %d | %.0f | %s | %s | %s | %s | %s |\n",
			x.mode.name, x.target, x.r.requests, x.r.errors, x.r.rps(), l.p50, l.p99, l.added50, l.added99, cpuPerRequest(x.r))
	}
	fmt.Fprintln(w, "\n| against 1 replica on its own SQLite | throughput | added p50 ms (vs its) |")
	fmt.Fprintln(w, "|---|--:|--:|")
	for _, x := range rows {
		if !strings.HasPrefix(x.target, "HAProxy") {
			continue
		}
		direct := byKey[x.mode.name+"/direct"]
		solo := byKey[x.mode.name+"/"+soloName]
		if solo == nil || solo.rps() == 0 {
			continue
		}
		d50 := pct(direct.latency, 50)
		fmt.Fprintf(w, "| %s: %s | %.0f%% (%.0f vs %.0f req/s) | %s vs %s |\n", x.mode.name, x.target,
			100*x.r.rps()/solo.rps(), x.r.rps(), solo.rps(), ms(pct(x.r.latency, 50)-d50), ms(pct(solo.latency, 50)-d50))
	}
}

// machine describes the CPU and memory from /proc ("unknown" where it cannot read them).
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := ""
	if m, err := procMeminfo("MemTotal"); err == nil {
		mem = fmt.Sprintf(", %.1f GiB RAM", float64(m)/(1<<30))
	}
	return fmt.Sprintf("%d CPUs (%s)%s", runtime.NumCPU(), model, mem)
}

// procMeminfo returns a /proc/meminfo field in bytes.
func procMeminfo(field string) (int64, error) {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			var kb int64
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kb); err != nil {
				return 0, err
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("%s not in /proc/meminfo", field)
}

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
)

// target is one way to reach the fake upstream.
type target struct {
	name string
	url  string // full chat completions URL
	key  string
	pid  int // the serving process when it is not this one, for its CPU time
}

// mode is one kind of request.
type mode struct {
	name   string
	model  string // the fast or the slow (delayed) upstream
	stream bool
}

// result is one measured phase (or several rounds of it merged).
type result struct {
	requests int
	errors   int
	elapsed  time.Duration
	latency  []time.Duration // full response, sorted after merge
	ttfb     []time.Duration // first body byte, streams only
	firstErr error
	cpu      time.Duration // the target process's CPU time during the phase, when known
	io       sysIO         // the target process's read and write system calls during the phase

	upstreamConns int64 // connections the upstream accepted during the phase
}

func (r *result) merge(o *result) {
	r.requests += o.requests
	r.errors += o.errors
	r.elapsed += o.elapsed
	r.latency = append(r.latency, o.latency...)
	r.ttfb = append(r.ttfb, o.ttfb...)
	r.cpu += o.cpu
	r.io = r.io.plus(o.io)
	r.upstreamConns += o.upstreamConns
	if r.firstErr == nil {
		r.firstErr = o.firstErr
	}
}

func (r *result) rps() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.requests) / r.elapsed.Seconds()
}

// newClient returns the one client every phase uses: enough idle connections for the
// concurrency (the default of 2 per host would measure connection setup instead).
func newClient(concurrency int) *http.Client {
	return &http.Client{
		Timeout: 60 * time.Second,
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        4 * concurrency,
			MaxIdleConnsPerHost: 4 * concurrency,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}
}

func requestBody(m mode) []byte {
	if m.stream {
		return fmt.Appendf(nil, `{"model":%q,"messages":[{"role":"user","content":"Say hello"}],"stream":true,"stream_options":{"include_usage":true}}`, m.model)
	}
	return fmt.Appendf(nil, `{"model":%q,"messages":[{"role":"user","content":"Say hello"}]}`, m.model)
}

var (
	streamEnd  = []byte("data: [DONE]\n\n")
	replyCheck = []byte("Hello")
)

// load runs concurrency workers against t for d and returns what they measured. Workers
// start no request after d but let the ones in flight finish: cancelling them would measure
// aborted requests and, with keep-alive connections, can leave a broken connection behind in a
// proxy's idle pool that fails a later request.
func load(ctx context.Context, client *http.Client, t target, m mode, concurrency int, d time.Duration) *result {
	body := requestBody(m)
	results := make([]*result, concurrency)
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for i := range concurrency {
		r := &result{}
		results[i] = r
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 32<<10)
			for ctx.Err() == nil && time.Now().Before(deadline) {
				lat, ttfb, err := once(ctx, client, t, body, m.stream, buf)
				if ctx.Err() != nil {
					return // interrupted: neither a success nor an error
				}
				if err != nil {
					r.errors++
					if r.firstErr == nil {
						r.firstErr = err
					}
					continue
				}
				r.requests++
				r.latency = append(r.latency, lat)
				if m.stream {
					r.ttfb = append(r.ttfb, ttfb)
				}
			}
		}()
	}
	wg.Wait()
	total := &result{}
	for _, r := range results {
		total.merge(r)
	}
	total.elapsed = time.Since(start)
	return total
}

// once sends one request and reads the whole answer, checking that it is a complete one.
func once(ctx context.Context, client *http.Client, t target, body []byte, stream bool, buf []byte) (lat, ttfb time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+t.key)
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	// Keep the last bytes to check the ending without holding whole answers.
	var tail []byte
	first := true
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			if first {
				ttfb = time.Since(start)
				first = false
			}
			tail = append(tail, buf[:n]...)
			if len(tail) > 4096 {
				tail = tail[len(tail)-4096:]
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return 0, 0, fmt.Errorf("read %s: %w", t.name, rerr)
		}
	}
	lat = time.Since(start)
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("%s: status %d: %.200s", t.name, resp.StatusCode, tail)
	}
	if stream && !bytes.HasSuffix(tail, streamEnd) {
		return 0, 0, fmt.Errorf("%s: stream did not end with [DONE]: %.200q", t.name, tail)
	}
	if !stream && !bytes.Contains(tail, replyCheck) {
		return 0, 0, errors.New(t.name + ": answer lacks the expected content")
	}
	return lat, ttfb, nil
}

// pct returns the p-th percentile of sorted durations (nearest rank).
func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p/100*float64(len(sorted))+0.5) - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i]
}

func (r *result) sort() {
	slices.Sort(r.latency)
	slices.Sort(r.ttfb)
}

package proxy

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
)

// gatedSSE is an upstream that replays an SSE transcript one event at a time: after each event
// it waits for a release on the returned channel. done closes when its handler has returned.
func gatedSSE(t *testing.T, transcript []byte) (srv *httptest.Server, gate chan struct{}, done chan struct{}) {
	t.Helper()
	gate, done = make(chan struct{}), make(chan struct{})
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		_, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		for _, ev := range bytes.SplitAfter(transcript, []byte("\n\n")) {
			if len(bytes.TrimSpace(ev)) == 0 {
				continue
			}
			if _, err := w.Write(ev); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-gate:
			case <-r.Context().Done(): // the gateway hung up on us
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv, gate, done
}

// waitRecord waits (a generous bound, not a speed test) for the gateway's one usage record.
func waitRecord(t *testing.T, g *gateway) Usage {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(g.sink.all()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no usage record: the call was never settled")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return g.sink.all()[0]
}

// hangUpAfter makes one streamed call through a gated upstream, reads k events (releasing the
// upstream one event at a time), hangs up, then lets the upstream run to its end, and returns the
// call's usage record.
func hangUpAfter(t *testing.T, yaml, body string, transcript []byte, k int, oneToOne bool) Usage {
	t.Helper()
	up, gate, done := gatedSSE(t, transcript)
	g := newGateway(t, strings.ReplaceAll(yaml, "{{UP}}", up.URL))
	// noticed closes once the gateway knows its client left (the handler is still running then, held
	// by the gated upstream): only then is the upstream let go on, so every hang-up is seen mid-call.
	noticed := make(chan struct{})
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		context.AfterFunc(r.Context(), func() { close(noticed) })
		g.gw.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(g.srv.Close)
	resp := g.chat(body)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, readAll(t, resp.Body))
	}
	br := bufio.NewReader(resp.Body)
	for i := range k {
		if oneToOne {
			// Each upstream event is one client chunk: release exactly one per chunk read, so the
			// upstream is never ahead of the client when it hangs up.
			if i > 0 {
				gate <- struct{}{}
			}
			if line, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(line, "data: ") {
				t.Fatalf("event %d: %q, %v", i, line, err)
			}
			_, _ = br.ReadString('\n')
			continue
		}
		// Otherwise release upstream events only while the client waits for its next chunk: an
		// upstream event may make none (Anthropic's ping), or several.
		got := make(chan error, 1)
		go func() {
			line, err := br.ReadString('\n')
			if err == nil && !strings.HasPrefix(line, "data: ") {
				err = io.ErrUnexpectedEOF
			}
			_, _ = br.ReadString('\n')
			got <- err
		}()
		for waiting := true; waiting; {
			select {
			case err := <-got:
				if err != nil {
					t.Fatalf("event %d: %v", i, err)
				}
				waiting = false
				continue
			default:
			}
			select {
			case err := <-got:
				if err != nil {
					t.Fatalf("event %d: %v", i, err)
				}
				waiting = false
			case gate <- struct{}{}:
			}
		}
	}
	resp.Body.Close() // the client hangs up
	<-noticed
	for {
		select {
		case gate <- struct{}{}:
			continue
		case <-done:
		}
		break
	}
	return waitRecord(t, g)
}

func within1pct(got, want float64) bool { return want > 0 && math.Abs(got-want) <= 0.01*want }

const gatedOpenAI = `
model_list:
  - model_name: gpt-4o-mini
    litellm_params: {model: openai/gpt-4o-mini, api_base: "{{UP}}/v1", api_key: sk-upstream}
general_settings: {master_key: ` + masterKey + `}
`

// TestStreamHangUpAtEveryChunk: a client that hangs up after any number of chunks is metered for
// the whole call, as the upstream reported it (9 prompt and 2 completion tokens), not for nothing.
func TestStreamHangUpAtEveryChunk(t *testing.T) {
	transcript := readTestdata(t, "stream_usage.sse")
	events := bytes.Count(transcript, []byte("data: {"))
	for _, asked := range []bool{true, false} {
		body := `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}`
		seen := events // the client sees every upstream event, the usage chunk included
		if asked {
			body = `{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`
		} else {
			seen-- // the usage chunk is held back
		}
		full := hangUpAfter(t, gatedOpenAI, body, transcript, seen, true) // read to the end, [DONE] aside
		if full.PromptTokens != 9 || full.CompletionTokens != 2 || !(full.Cost > 0) {
			t.Fatalf("reference call: %+v", full)
		}
		for k := 0; k < seen; k++ {
			rec := hangUpAfter(t, gatedOpenAI, body, transcript, k, true)
			if rec.PromptTokens != 9 || rec.CompletionTokens != 2 || !within1pct(rec.Cost, full.Cost) {
				t.Errorf("include_usage %v, hung up after %d of %d chunks: metered %d+%d tokens, $%g; the upstream reported 9+2, $%g (%s)",
					asked, k, seen, rec.PromptTokens, rec.CompletionTokens, rec.Cost, full.Cost, rec.Error)
			}
		}
	}
}

// TestStreamHangUpAnthropic: the same through an anthropic/ deployment, whose usage comes in its
// message_start and message_delta events.
func TestStreamHangUpAnthropic(t *testing.T) {
	transcript, err := os.ReadFile("provider/anthropic/testdata/tool_use.sse")
	if err != nil {
		t.Fatal(err)
	}
	const yaml = `
model_list:
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "{{UP}}", api_key: sk-ant-test}
general_settings: {master_key: ` + masterKey + `}
`
	body := `{"model":"claude","stream":true,"messages":[{"role":"user","content":"weather in SF?"}]}`
	for _, k := range []int{0, 1, 2, 3} {
		rec := hangUpAfter(t, yaml, body, transcript, k, false)
		if rec.PromptTokens != 472 || rec.CompletionTokens != 89 || !(rec.Cost > 0) {
			t.Errorf("hung up after %d chunks: metered %d+%d tokens ($%g); the upstream reported 472+89 (%s)",
				k, rec.PromptTokens, rec.CompletionTokens, rec.Cost, rec.Error)
		}
	}
}

// TestStreamClientGoneReadWithinBounds: the upstream is read on for a client that left only within
// bounds: one that stalls is cut after drain.For, one that never ends after drain.Bytes. Either
// way the call is billed at the estimate of what it sent, and the record says so.
func TestStreamClientGoneReadWithinBounds(t *testing.T) {
	body := `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"` + strings.Repeat("long prompt ", 100) + `"}]}`
	check := func(t *testing.T, rec Usage, wantText bool) {
		t.Helper()
		if rec.Status != 499 || !strings.Contains(rec.Error, "usage estimated") || !rec.UsageKnown ||
			rec.PromptTokens < len(body)/4 || (wantText && rec.CompletionTokens == 0) || !(rec.Cost > 0) {
			t.Errorf("record of a call cut short: status %d, %d+%d tokens, $%g, error %q", rec.Status, rec.PromptTokens, rec.CompletionTokens, rec.Cost, rec.Error)
		}
	}
	t.Run("stalled upstream, time bound", func(t *testing.T) {
		up, _, done := gatedSSE(t, readTestdata(t, "stream_usage.sse")) // never released: stalls after one event
		g := newGateway(t, strings.ReplaceAll(gatedOpenAI, "{{UP}}", up.URL))
		g.gw.drain.For = 100 * time.Millisecond
		resp := g.chat(body)
		if _, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		check(t, waitRecord(t, g), false)
		<-done // and the upstream call was ended
	})
	t.Run("endless upstream, byte bound", func(t *testing.T) {
		done := make(chan struct{})
		up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer close(done)
			w.Header().Set("Content-Type", "text/event-stream")
			ev := []byte(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"more words "},"finish_reason":null}],"usage":null}` + "\n\n")
			for {
				if _, err := w.Write(ev); err != nil {
					return
				}
				w.(http.Flusher).Flush()
			}
		}))
		t.Cleanup(up.Close)
		g := newGateway(t, strings.ReplaceAll(gatedOpenAI, "{{UP}}", up.URL))
		g.gw.drain.For, g.gw.drain.Bytes = time.Minute, 256<<10
		resp := g.chat(body)
		if _, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		rec := waitRecord(t, g)
		check(t, rec, true)
		if !strings.Contains(rec.Error, "more than the gateway reads") {
			t.Errorf("the record does not name the byte bound: %q", rec.Error)
		}
		<-done
	})
}

// TestNonStreamedHangUp: a client that gives up before a non-streamed answer does not make the
// call free: an answer that comes within the bound is metered as the upstream reported it, and a
// call cut at the bound is billed its prompt at the estimate.
func TestNonStreamedHangUp(t *testing.T) {
	answer := readTestdata(t, "chat_completion.json")
	for _, tc := range []struct {
		name    string
		answers bool // the upstream answers once the client has gone
	}{{"answer after the client left", true}, {"cut at the bound", false}} {
		t.Run(tc.name, func(t *testing.T) {
			release, done, asked := make(chan struct{}), make(chan struct{}), make(chan struct{})
			up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				defer close(done)
				_, _ = io.ReadAll(r.Body)
				close(asked)
				select {
				case <-release:
					w.Header().Set("Content-Type", "application/json")
					_, _ = w.Write(answer)
				case <-r.Context().Done():
				}
			}))
			t.Cleanup(up.Close)
			g := newGateway(t, strings.ReplaceAll(gatedOpenAI, "{{UP}}", up.URL))
			g.gw.drain.For = 100 * time.Millisecond
			if tc.answers {
				g.gw.drain.For = time.Minute
			}
			noticed := make(chan struct{})
			g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				context.AfterFunc(r.Context(), func() { close(noticed) })
				g.gw.Handler().ServeHTTP(w, r)
			}))
			t.Cleanup(g.srv.Close)
			ctx, cancel := context.WithCancel(t.Context())
			body := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"` + strings.Repeat("long prompt ", 100) + `"}]}`
			req, _ := http.NewRequestWithContext(ctx, "POST", g.srv.URL+"/v1/chat/completions", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+masterKey)
			req.Header.Set("Content-Type", "application/json")
			go func() { <-asked; cancel() }() // the client gives up while the upstream works
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
				t.Fatalf("the request was not cancelled: %d", resp.StatusCode)
			}
			<-noticed
			if tc.answers {
				close(release)
			}
			rec := waitRecord(t, g)
			<-done
			switch {
			case tc.answers && (rec.PromptTokens != 19 || rec.CompletionTokens != 10 || !(rec.Cost > 0)):
				t.Errorf("answered after the client left: %d+%d tokens, $%g (%s)", rec.PromptTokens, rec.CompletionTokens, rec.Cost, rec.Error)
			case !tc.answers && (!rec.UsageKnown || rec.PromptTokens != len(body)/4+1 || !(rec.Cost > 0) || !strings.Contains(rec.Error, "usage estimated")):
				t.Errorf("cut at the bound: %d+%d tokens, $%g (%s)", rec.PromptTokens, rec.CompletionTokens, rec.Cost, rec.Error)
			}
		})
	}
}

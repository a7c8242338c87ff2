package claudeapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"

	"github.com/clawgate/clawgate/proxy/provider"
	"github.com/clawgate/clawgate/proxy/provider/anthropic"
	"github.com/clawgate/clawgate/proxy/provider/bedrock"
)

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sseEvents splits a recorded transcript into (event, data) pairs.
func sseEvents(t *testing.T, transcript []byte) [][2]string {
	t.Helper()
	var out [][2]string
	for _, ev := range strings.Split(strings.TrimSpace(string(transcript)), "\n\n") {
		name, data, ok := strings.Cut(ev, "\ndata: ")
		if !ok {
			t.Fatalf("bad event %q", ev)
		}
		out = append(out, [2]string{strings.TrimPrefix(name, "event: "), data})
	}
	return out
}

// BedrockFrames frames Anthropic's events as InvokeModelWithResponseStream sends them: chunk
// events whose payload is {"bytes":"<base64 of the event's JSON>"}.
func bedrockFrames(t *testing.T, events [][2]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := eventstream.NewEncoder()
	for _, ev := range events {
		payload, _ := json.Marshal(map[string]string{"bytes": base64.StdEncoding.EncodeToString([]byte(ev[1])), "p": "abcdefgh"})
		msg := eventstream.Message{Payload: payload}
		msg.Headers.Set(":event-type", eventstream.StringValue("chunk"))
		msg.Headers.Set(":content-type", eventstream.StringValue("application/json"))
		msg.Headers.Set(":message-type", eventstream.StringValue("event"))
		if err := enc.Encode(&buf, msg); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func TestUsage(t *testing.T) {
	var u Usage
	if id := u.Message(readFile(t, "message_cache.json")); id != "msg_01QC4g3HwBThD4BaNtBckFDJ" {
		t.Errorf("id %q", id)
	}
	want := Usage{Input: 12, Output: 42, CacheWrite: 1024, CacheRead: 18432, Known: true}
	if u != want || u.Prompt() != 12+1024+18432 {
		t.Errorf("message usage %+v", u)
	}
	var su Usage
	id := ""
	for _, ev := range sseEvents(t, readFile(t, "stream_cache.sse")) {
		if got := su.Event([]byte(ev[1])); got != "" {
			id = got
		}
	}
	if su != want || id != "msg_01QC4g3HwBThD4BaNtBckFDJ" {
		t.Errorf("stream usage %+v, id %q", su, id)
	}
	var none Usage
	none.Event([]byte(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"\"usage\":{\"output_tokens\":9}"}}`))
	if none.Known {
		t.Errorf("usage read from generated text: %+v", none)
	}
}

// TestBedrockMessages: a streamed Messages call to Claude on Bedrock goes to
// invoke-with-response-stream in Anthropic's envelope, signed, and its chunk events come back as
// Anthropic's events, byte for byte.
func TestBedrockMessages(t *testing.T) {
	transcript := readFile(t, "stream_cache.sse")
	events := sseEvents(t, transcript)
	var gotPath, gotAuth, gotBeta string
	var gotBody []byte
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotAuth, gotBeta = r.URL.EscapedPath(), r.Header.Get("Authorization"), r.Header.Get("Anthropic-Beta")
		gotBody, _ = io.ReadAll(r.Body)
		w.Header().Set("X-Amzn-Requestid", "req-1")
		if strings.HasSuffix(r.URL.Path, "/invoke") {
			w.Header().Set("Content-Type", "application/json")
			w.Write(readFile(t, "message_cache.json"))
			return
		}
		w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
		w.Write(bedrockFrames(t, events))
	}))
	defer up.Close()
	bp, err := bedrock.New(context.Background(), bedrock.Options{Region: "us-east-1", AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret", Endpoint: up.URL})
	if err != nil {
		t.Fatal(err)
	}
	b := WrapBedrock(bp, bp, map[string]string{"anthropic-beta": "context-1m-2025-08-07"})
	h := http.Header{"Anthropic-Beta": {"interleaved-thinking-2025-05-14"}}
	in := readFile(t, "claude_code_request.json")
	resp, err := b.Messages(context.Background(), &Request{Body: in, Model: "us.anthropic.claude-sonnet-4-5-20250929-v1:0", Stream: true, Header: h})
	if err != nil {
		t.Fatal(err)
	}
	var got [][2]string
	for {
		ev, data, err := resp.Stream.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, [2]string{string(ev), string(data)})
	}
	resp.Stream.Close()
	if len(got) != len(events) {
		t.Fatalf("%d events, want %d", len(got), len(events))
	}
	for i := range got {
		if got[i] != events[i] {
			t.Errorf("event %d: %q, want %q", i, got[i], events[i])
		}
	}
	if gotPath != "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke-with-response-stream" || !strings.HasPrefix(gotAuth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") || gotBeta != "" {
		t.Errorf("upstream got %s, auth %q, beta header %q", gotPath, gotAuth, gotBeta)
	}
	m := membersOf(t, gotBody)
	if string(m["anthropic_beta"]) != `["interleaved-thinking-2025-05-14","context-1m-2025-08-07"]` || string(m["anthropic_version"]) != `"bedrock-2023-05-31"` ||
		m["model"] != nil || m["stream"] != nil || !bytes.Equal(m["context_management"], membersOf(t, in)["context_management"]) {
		t.Errorf("upstream body %s", gotBody)
	}

	resp, err = b.Messages(context.Background(), &Request{Body: []byte(`{"model":"x","max_tokens":5,"messages":[]}`), Model: "anthropic.claude-3-haiku-20240307-v1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(resp.Body, readFile(t, "message_cache.json")) || resp.Header.Get("X-Amzn-Requestid") != "req-1" || !strings.HasSuffix(gotPath, "/invoke") {
		t.Errorf("non-streamed: %s %v %s", resp.Body, resp.Header, gotPath)
	}
}

// TestBedrockStreamException: an exception frame mid-stream is an error with Bedrock's status.
func TestBedrockStreamException(t *testing.T) {
	var buf bytes.Buffer
	buf.Write(bedrockFrames(t, [][2]string{{"message_start", `{"type":"message_start","message":{"id":"m","usage":{"input_tokens":3,"output_tokens":1}}}`}}))
	msg := eventstream.Message{Payload: []byte(`{"message":"Too many tokens, please wait before trying again."}`)}
	msg.Headers.Set(":message-type", eventstream.StringValue("exception"))
	msg.Headers.Set(":exception-type", eventstream.StringValue("throttlingException"))
	_ = eventstream.NewEncoder().Encode(&buf, msg)
	s := &invokeStream{body: io.NopCloser(&buf), r: bufio.NewReader(&buf), dec: eventstream.NewDecoder()}
	if ev, _, err := s.Next(); err != nil || string(ev) != "message_start" {
		t.Fatalf("first: %s %v", ev, err)
	}
	_, _, err := s.Next()
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.Status != http.StatusTooManyRequests || !strings.Contains(pe.Message, "Too many tokens") {
		t.Errorf("exception: %v", err)
	}
}

// TestAnthropicMessages: Anthropic's API gets the body with only the model changed, the client's
// anthropic-version and anthropic-beta (with the deployment's betas), and the deployment's key.
func TestAnthropicMessages(t *testing.T) {
	var got *http.Request
	var gotBody []byte
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, gotBody = r, must(io.ReadAll(r.Body))
		if strings.Contains(string(gotBody), `"bad"`) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(400)
			w.Write([]byte(`{"type":"error","error":{"type":"invalid_request_error","message":"context_management: unknown edit type"}}`))
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Request-Id", "req_1")
		w.Write(readFile(t, "stream_cache.sse"))
	}))
	defer up.Close()
	o := Options{APIBase: up.URL, APIKey: "sk-ant-dep", Headers: map[string]string{"anthropic-beta": "context-1m-2025-08-07", "X-Team": "a"}}
	a := Wrap(anthropic.New(anthropic.Options{APIBase: o.APIBase, APIKey: o.APIKey}), o)
	in := readFile(t, "claude_code_request.json")
	h := http.Header{"Anthropic-Version": {"2023-06-01"}, "Anthropic-Beta": {"interleaved-thinking-2025-05-14,context-management-2025-06-27"}}
	resp, err := a.Messages(context.Background(), &Request{Body: in, Model: "claude-sonnet-4-5-20250929", Stream: true, Header: h})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Stream.Close()
	if want := bytes.Replace(in, []byte(`"claude-sonnet-4-5"`), []byte(`"claude-sonnet-4-5-20250929"`), 1); !bytes.Equal(gotBody, want) {
		t.Errorf("body differs beyond the model:\n%s", gotBody)
	}
	if got.URL.Path != "/v1/messages" || got.Header.Get("X-Api-Key") != "sk-ant-dep" || got.Header.Get("Anthropic-Version") != "2023-06-01" ||
		got.Header.Get("Anthropic-Beta") != "interleaved-thinking-2025-05-14,context-management-2025-06-27,context-1m-2025-08-07" || got.Header.Get("X-Team") != "a" {
		t.Errorf("upstream got %s %v", got.URL.Path, got.Header)
	}
	if resp.Header.Get("Request-Id") != "req_1" {
		t.Errorf("response headers %v", resp.Header)
	}
	_, err = a.Messages(context.Background(), &Request{Body: []byte(`{"model":"x","context_management":"bad"}`), Model: "m"})
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.Status != 400 || pe.Type != "invalid_request_error" || pe.Message != "context_management: unknown edit type" {
		t.Errorf("error answer: %v", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestVertexCount: Claude on Vertex AI counts at count-tokens:rawPredict, the model kept in the
// body (it names none in the URL) and anthropic_version added, with the OAuth2 token.
func TestVertexCount(t *testing.T) {
	var gotPath, gotAuth string
	var gotBody []byte
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/token" {
			io.WriteString(w, `{"access_token":"ya29.count","expires_in":3599,"token_type":"Bearer"}`)
			return
		}
		gotPath, gotAuth, gotBody = r.URL.Path, r.Header.Get("Authorization"), must(io.ReadAll(r.Body))
		io.WriteString(w, `{"input_tokens":77}`)
	}))
	defer up.Close()
	creds := `{"type":"authorized_user","client_id":"c","client_secret":"s","refresh_token":"1//rt","token_uri":"` + up.URL + `/token"}`
	v, err := WrapVertex(nil, VertexOptions{Project: "p", Location: "us-east5", Credentials: creds, APIBase: up.URL})
	if err != nil {
		t.Fatal(err)
	}
	out, err := v.CountMessages(context.Background(), &Request{Body: []byte(`{"model":"claude","messages":[{"role":"user","content":"hi"}]}`), Model: "claude-sonnet-4-5@20250929"})
	if err != nil || string(out) != `{"input_tokens":77}` {
		t.Fatalf("%s %v", out, err)
	}
	if gotPath != "/v1/projects/p/locations/us-east5/publishers/anthropic/models/count-tokens:rawPredict" || gotAuth != "Bearer ya29.count" ||
		string(gotBody) != `{"model":"claude-sonnet-4-5@20250929","messages":[{"role":"user","content":"hi"}],"anthropic_version":"vertex-2023-10-16"}` {
		t.Errorf("upstream got %s %q %s", gotPath, gotAuth, gotBody)
	}
}

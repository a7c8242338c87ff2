package gemini

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/clawgate/clawgate/proxy/provider"
	"github.com/clawgate/clawgate/proxy/provider/internal/testkit"
)

// streamOver builds a Stream over r as Chat would, without HTTP.
func streamOver(r io.Reader) *Stream {
	return NewStream(io.NopCloser(r), "requested-model")
}

var streamCases = []struct {
	name   string
	end    string
	status int // for errors
}{
	{"text", "eof", 0},
	{"tool_call", "eof", 0},
	{"parallel_tools", "eof", 0},
	{"thinking", "eof", 0},
	{"max_tokens", "eof", 0},
	{"safety", "eof", 0},
	{"prompt_blocked", "eof", 0},
	{"cached", "eof", 0},
	{"late_usage", "eof", 0},
	{"error_midstream", "error UNAVAILABLE", 503},
	{"truncated", "unexpected", 502},
	{"bad_json", "error api_error", 502},
}

// TestStreamGolden translates testdata/X.sse into testdata/X.chunks.jsonl, one chunk per line.
func TestStreamGolden(t *testing.T) {
	for _, tc := range streamCases {
		t.Run(tc.name, func(t *testing.T) {
			in := readFile(t, filepath.Join("testdata", tc.name+".sse"))
			resetIDs()
			chunks, err := drain(t, streamOver(bytes.NewReader(in)))
			if got := endKind(err); got != tc.end {
				t.Fatalf("stream ended with %s (%v), want %s", got, err, tc.end)
			}
			if tc.status != 0 {
				if pe := provider.AsError(err); pe.Status != tc.status || !pe.Retryable() {
					t.Errorf("status %d retryable %v, want %d retryable", pe.Status, pe.Retryable(), tc.status)
				}
			}
			checkChunks(t, chunks, tc.end == "eof")

			var out bytes.Buffer
			for _, c := range chunks {
				out.WriteString(c)
				out.WriteByte('\n')
			}
			golden(t, filepath.Join("testdata", tc.name+".chunks.jsonl"), out.Bytes())

			// The same bytes one at a time give the same chunks: nothing depends on read sizes.
			resetIDs()
			again, err2 := drain(t, streamOver(iotest.OneByteReader(bytes.NewReader(in))))
			if !reflect.DeepEqual(again, chunks) || endKind(err2) != tc.end {
				t.Errorf("one-byte reads gave %d chunks ending %v, want %d ending %s", len(again), err2, len(chunks), tc.end)
			}
			// And with CRLF line ends, as Google sends them.
			resetIDs()
			crlf := bytes.ReplaceAll(in, []byte("\n"), []byte("\r\n"))
			again, err2 = drain(t, streamOver(bytes.NewReader(crlf)))
			if !reflect.DeepEqual(again, chunks) || endKind(err2) != tc.end {
				t.Errorf("CRLF gave %d chunks ending %v, want %d ending %s", len(again), err2, len(chunks), tc.end)
			}
		})
	}
}

type chunk struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	Model   string `json:"model"`
	Choices []struct {
		Index int `json:"index"`
		Delta struct {
			Role             string          `json:"role"`
			Content          *string         `json:"content"`
			Refusal          *string         `json:"refusal"`
			ReasoningContent string          `json:"reasoning_content"`
			ToolCalls        []toolCallDelta `json:"tool_calls"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *chatUsage `json:"usage"`
}

type toolCallDelta struct {
	Index    *int   `json:"index"`
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      *string `json:"name"`
		Arguments *string `json:"arguments"`
	} `json:"function"`
	ProviderSpecificFields *providerFields `json:"provider_specific_fields"`
}

// checkChunks holds what every client relies on: valid JSON chunks with one id, a role chunk
// first, at most one finish_reason, tool call deltas with an index and complete JSON arguments,
// and (for a complete stream) a finish_reason then exactly one usage chunk with choices:[] at the
// end.
func checkChunks(t *testing.T, chunks []string, complete bool) {
	t.Helper()
	finishes, usages := 0, 0
	var id string
	for i, raw := range chunks {
		var c chunk
		if err := json.Unmarshal([]byte(raw), &c); err != nil {
			t.Fatalf("chunk %d is not JSON: %v\n%s", i, err, raw)
		}
		if c.Object != "chat.completion.chunk" || c.Created != fixedNow.Unix() || c.Model == "" || c.ID == "" {
			t.Errorf("chunk %d head: %s", i, raw)
		}
		if i == 0 {
			id = c.ID
			if len(c.Choices) != 1 || c.Choices[0].Delta.Role != "assistant" {
				t.Errorf("first chunk is not the role chunk: %s", raw)
			}
		} else if c.ID != id {
			t.Errorf("chunk %d id %q, want %q", i, c.ID, id)
		}
		for _, ch := range c.Choices {
			if finishes > 0 {
				t.Errorf("chunk %d comes after the finish_reason: %s", i, raw)
			}
			if ch.FinishReason != nil {
				finishes++
			}
			for _, tc := range ch.Delta.ToolCalls {
				if tc.Index == nil || tc.ID == "" || tc.Function.Name == nil || tc.Function.Arguments == nil || !json.Valid([]byte(*tc.Function.Arguments)) {
					t.Errorf("chunk %d: incomplete tool call delta: %s", i, raw)
				}
			}
		}
		if c.Usage != nil {
			usages++
			if len(c.Choices) != 0 || i != len(chunks)-1 {
				t.Errorf("usage chunk %d is not the last, choices:[] one: %s", i, raw)
			}
		}
	}
	if finishes > 1 || (complete && (finishes != 1 || usages != 1)) || (!complete && usages != 0) {
		t.Errorf("%d finish_reason chunks and %d usage chunks", finishes, usages)
	}
}

// assemble folds chunks into the chat.completion a client would build from them.
func assemble(t *testing.T, chunks []string) completion {
	t.Helper()
	var out completion
	out.Object = "chat.completion"
	out.Choices = make([]choice, 1)
	ch := &out.Choices[0]
	var content, refusal strings.Builder
	for _, raw := range chunks {
		var c chunk
		if err := json.Unmarshal([]byte(raw), &c); err != nil {
			t.Fatal(err)
		}
		out.ID, out.Model = c.ID, c.Model
		if c.Usage != nil {
			out.Usage = *c.Usage
		}
		for _, cc := range c.Choices {
			d := cc.Delta
			if d.Role != "" {
				ch.Message.Role = d.Role
			}
			if d.Content != nil {
				content.WriteString(*d.Content)
			}
			if d.Refusal != nil {
				refusal.WriteString(*d.Refusal)
			}
			ch.Message.ReasoningContent += d.ReasoningContent
			for _, tc := range d.ToolCalls {
				for len(ch.Message.ToolCalls) <= *tc.Index {
					ch.Message.ToolCalls = append(ch.Message.ToolCalls, toolCall{})
				}
				call := &ch.Message.ToolCalls[*tc.Index]
				if tc.ID != "" {
					call.ID, call.Type = tc.ID, tc.Type
				}
				if tc.Function.Name != nil {
					call.Function.Name = *tc.Function.Name
				}
				if tc.Function.Arguments != nil {
					call.Function.Arguments += *tc.Function.Arguments
				}
				if tc.ProviderSpecificFields != nil {
					call.ProviderSpecificFields = tc.ProviderSpecificFields
				}
			}
			if cc.FinishReason != nil {
				ch.FinishReason = *cc.FinishReason
			}
		}
	}
	if refusal.Len() > 0 {
		s := refusal.String()
		ch.Message.Refusal = &s
	} else if content.Len() > 0 || len(ch.Message.ToolCalls) == 0 {
		s := content.String()
		ch.Message.Content = &s
	}
	return out
}

// TestStreamMatchesResponse holds the streamed and non-streamed paths to the same answer for the
// same exchange: content, reasoning, tool calls with their signatures, finish reason, id, model
// and, above all, usage.
func TestStreamMatchesResponse(t *testing.T) {
	pairs := 0
	for _, tc := range streamCases {
		resp := filepath.Join("testdata", "responses", tc.name+".json")
		if _, err := os.Stat(resp); err != nil {
			continue
		}
		pairs++
		t.Run(tc.name, func(t *testing.T) {
			resetIDs()
			chunks, err := drain(t, streamOver(bytes.NewReader(readFile(t, filepath.Join("testdata", tc.name+".sse")))))
			if err != io.EOF {
				t.Fatal(err)
			}
			streamed := assemble(t, chunks)
			resetIDs()
			body, err := ToChatCompletion(readFile(t, resp), "requested-model")
			if err != nil {
				t.Fatal(err)
			}
			var whole completion
			if err := json.Unmarshal(body, &whole); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(streamed, whole) {
				s, _ := json.MarshalIndent(streamed, "", "  ")
				w, _ := json.MarshalIndent(whole, "", "  ")
				t.Errorf("streamed and non-streamed answers differ\nstream:\n%s\nwhole:\n%s", s, w)
			}
		})
	}
	if pairs < 8 {
		t.Errorf("only %d stream/response pairs", pairs)
	}
}

func TestStreamErrorObject(t *testing.T) {
	tests := []struct {
		body   string
		status int
		typ    string
		retry  bool
	}{
		{`{"code":503,"message":"boom","status":"UNAVAILABLE"}`, 503, "UNAVAILABLE", true},
		{`{"code":429,"message":"boom","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"2.5s"}]}`, 429, "RESOURCE_EXHAUSTED", true},
		{`{"code":400,"message":"boom","status":"INVALID_ARGUMENT"}`, 400, "INVALID_ARGUMENT", false},
		{`{"message":"boom","status":"DEADLINE_EXCEEDED"}`, 504, "DEADLINE_EXCEEDED", true},
		{`{"message":"boom"}`, 500, "api_error", true},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			in := "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"a\"}]}}]}\n\ndata: {\"error\":" + tt.body + "}\n\n"
			chunks, err := drain(t, streamOver(strings.NewReader(in)))
			var pe *provider.Error
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v", err)
			}
			if pe.Status != tt.status || pe.Type != tt.typ || pe.Message != "boom" || pe.Retryable() != tt.retry {
				t.Errorf("got %+v", pe)
			}
			if tt.status == 429 && pe.RetryAfter != 2500*time.Millisecond {
				t.Errorf("RetryAfter = %v", pe.RetryAfter)
			}
			if len(chunks) != 2 {
				t.Errorf("chunks before the error = %d, want the role and text chunks", len(chunks))
			}
		})
	}
}

func TestStreamEdges(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // substrings, one per chunk
		end  string
	}{
		{"empty body", "", nil, "unexpected"},
		{"only comments", ": keep-alive\n\n", nil, "unexpected"},
		{"no ids", "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"hi\"}]},\"finishReason\":\"STOP\"}]}\n\n",
			[]string{`"id":"chatcmpl-000000000000000000000001","object":"chat.completion.chunk","created":1764590200,"model":"requested-model"`, `"content":"hi"`, `"finish_reason":"stop"`, `"usage":{"prompt_tokens":0`}, "eof"},
		{"done marker ignored", "data: [DONE]\n\ndata: {\"candidates\":[{\"finishReason\":\"STOP\"}]}\n\n", []string{`"role"`, `"finish_reason"`, `"usage"`}, "eof"},
		{"last event without blank line", "data: {\"candidates\":[{\"finishReason\":\"STOP\"}]}\n", []string{`"role"`, `"finish_reason"`, `"usage"`}, "eof"},
		{"last event cut mid-line", "data: {\"candidates\":[{\"finishReason\":\"STOP\"}]}", nil, "unexpected"},
		{"multi-line data", "data: {\"candidates\":\ndata: [{\"finishReason\":\"STOP\"}]}\n\n", []string{`"role"`, `"finish_reason"`, `"usage"`}, "eof"},
		{"BOM, comments and other fields", "\xEF\xBB\xBF: hi\nevent: message\nid: 7\ndata: {\"candidates\":[{\"finishReason\":\"STOP\"}]}\n\n", []string{`"role"`, `"finish_reason"`, `"usage"`}, "eof"},
		{"unspecified finish is no finish", "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"x\"}]},\"finishReason\":\"FINISH_REASON_UNSPECIFIED\"}]}\n\n", []string{`"role"`, `"content":"x"`}, "unexpected"},
		{"empty parts and unknown parts carry nothing", "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"\"},{\"inlineData\":{\"mimeType\":\"image/png\",\"data\":\"AA==\"}},{\"executableCode\":{\"code\":\"1\"}}]},\"finishReason\":\"STOP\"}]}\n\n",
			[]string{`"role"`, `"finish_reason":"stop"`, `"usage"`}, "eof"},
		{"function call without args", "data: {\"candidates\":[{\"content\":{\"parts\":[{\"functionCall\":{\"name\":\"now\"}}]},\"finishReason\":\"STOP\"}]}\n\n",
			[]string{`"role"`, `"tool_calls":[{"index":0,"id":"call_000000000000000000000002","type":"function","function":{"name":"now","arguments":"{}"}}]`, `"finish_reason":"tool_calls"`, `"usage"`}, "eof"},
		{"Gemini's own call id kept", "data: {\"candidates\":[{\"content\":{\"parts\":[{\"functionCall\":{\"id\":\"fc-1\",\"name\":\"f\",\"args\":{}},\"thoughtSignature\":\"c2ln\"}]},\"finishReason\":\"STOP\"}]}\n\n",
			[]string{`"role"`, `"id":"fc-1__thought__c2ln"`, `"finish_reason":"tool_calls"`, `"usage"`}, "eof"},
		{"usage from the last fragment that has it", "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"a\"}]}}],\"usageMetadata\":{\"promptTokenCount\":5,\"totalTokenCount\":5}}\n\ndata: {\"candidates\":[{\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":5,\"candidatesTokenCount\":1,\"thoughtsTokenCount\":2,\"totalTokenCount\":8}}\n\ndata: {\"responseId\":\"later\"}\n\n",
			[]string{`"role"`, `"content":"a"`, `"finish_reason":"stop"`, `"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":2}}`}, "eof"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resetIDs()
			chunks, err := drain(t, streamOver(strings.NewReader(tt.in)))
			if got := endKind(err); got != tt.end {
				t.Errorf("end = %s (%v), want %s", got, err, tt.end)
			}
			if len(chunks) != len(tt.want) {
				t.Fatalf("got %d chunks, want %d:\n%s", len(chunks), len(tt.want), strings.Join(chunks, "\n"))
			}
			for i, w := range tt.want {
				if !strings.Contains(chunks[i], w) {
					t.Errorf("chunk %d = %s, want it to contain %s", i, chunks[i], w)
				}
			}
			checkChunks(t, chunks, tt.end == "eof")
		})
	}
}

// TestStreamBuffered checks the flush hint: while chunks of one burst remain, Buffered is not 0,
// and it is 0 once everything in memory has been handed out.
func TestStreamBuffered(t *testing.T) {
	pr, pw := io.Pipe()
	s := streamOver(pr)
	defer s.Close()
	// Two events in one write: the role chunk, two content chunks; then the writer waits.
	go func() {
		_, _ = pw.Write([]byte("data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"a\"}]}}]}\n\ndata: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"b\"}]}}]}\n\n"))
	}()
	var hints []int
	for range 3 {
		if _, err := s.Next(); err != nil {
			t.Fatal(err)
		}
		hints = append(hints, s.Buffered())
	}
	if hints[0] == 0 || hints[1] == 0 || hints[2] != 0 {
		t.Errorf("Buffered after each chunk = %v, want >0, >0, 0", hints)
	}
	go func() {
		_, _ = pw.Write([]byte("data: {\"candidates\":[{\"finishReason\":\"STOP\"}]}\n\n"))
		pw.Close()
	}()
	chunks, err := drain(t, s)
	if err != io.EOF || len(chunks) != 2 || s.Buffered() != 0 {
		t.Errorf("rest = %d chunks, %v, buffered %d", len(chunks), err, s.Buffered())
	}
}

func TestStreamAfterEnd(t *testing.T) {
	s := streamOver(bytes.NewReader(readFile(t, filepath.Join("testdata", "text.sse"))))
	if _, err := drain(t, s); err != io.EOF {
		t.Fatal(err)
	}
	if _, err := s.Next(); err != io.EOF {
		t.Errorf("Next after EOF = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

func TestStreamCloseUnblocksNext(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithCancelCause(context.Background())
	s := newStream(ctx, cancel, pr, "m")
	go func() {
		_, _ = pw.Write([]byte("data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"a\"}]}}]}\n\n"))
	}()
	if _, err := s.Next(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Next(); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := s.Next()
		errc <- err
	}()
	// Next is now blocked (or about to block) on the pipe; Close must release it either way.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if err == nil || err == io.EOF {
			t.Errorf("Next after Close = %v, want an error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not unblock Next")
	}
	if ctx.Err() == nil {
		t.Error("Close did not cancel the call's context")
	}
}

func TestStreamLongEvent(t *testing.T) {
	// One event far larger than the read buffer (an inline image, a big function call).
	big := strings.Repeat("x", 3<<20)
	in := "data: {\"candidates\":[{\"content\":{\"parts\":[{\"functionCall\":{\"name\":\"f\",\"args\":{\"a\":\"" + big + "\"}}}]},\"finishReason\":\"STOP\"}]}\n\n"
	chunks, err := drain(t, streamOver(strings.NewReader(in)))
	if err != io.EOF {
		t.Fatal(err)
	}
	if len(chunks) != 4 || !strings.Contains(chunks[1], big) {
		t.Errorf("got %d chunks", len(chunks))
	}
}

func TestStreamReadError(t *testing.T) {
	boom := errors.New("connection reset")
	r := io.MultiReader(strings.NewReader("data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"a\"}]}}]}\n\n"), iotest.ErrReader(boom))
	_, err := drain(t, streamOver(r))
	var pe *provider.Error
	if !errors.As(err, &pe) || !pe.Transport || pe.Status != http.StatusBadGateway || !errors.Is(err, boom) {
		t.Errorf("err = %#v", err)
	}
}

var (
	drain   = testkit.Drain
	endKind = testkit.EndKind
)

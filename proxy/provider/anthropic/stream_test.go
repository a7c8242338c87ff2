package anthropic

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
	{"tool_use", "eof", 0},
	{"parallel_tools", "eof", 0},
	{"thinking", "eof", 0},
	{"cache", "eof", 0},
	{"max_tokens", "eof", 0},
	{"tool_no_args", "eof", 0},
	{"unknown_events", "eof", 0},
	{"error_midstream", "error overloaded_error", 529},
	{"truncated", "unexpected", 502},
	{"truncated_after_delta", "unexpected", 502},
	{"bad_json", "error api_error", 502},
}

// TestStreamGolden translates testdata/X.sse into testdata/X.chunks.jsonl, one chunk per line.
func TestStreamGolden(t *testing.T) {
	for _, tc := range streamCases {
		t.Run(tc.name, func(t *testing.T) {
			in := readFile(t, filepath.Join("testdata", tc.name+".sse"))
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
			again, err2 := drain(t, streamOver(iotest.OneByteReader(bytes.NewReader(in))))
			if !reflect.DeepEqual(again, chunks) || endKind(err2) != tc.end {
				t.Errorf("one-byte reads gave %d chunks ending %v, want %d ending %s", len(again), err2, len(chunks), tc.end)
			}
			// And with CRLF line ends.
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
			Role             string            `json:"role"`
			Content          *string           `json:"content"`
			ReasoningContent string            `json:"reasoning_content"`
			ThinkingBlocks   []json.RawMessage `json:"thinking_blocks"`
			ToolCalls        []toolCallDelta   `json:"tool_calls"`
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
}

// checkChunks holds what every client relies on: valid JSON chunks with one id, a role chunk
// first, at most one finish_reason, and (for a complete stream) a finish_reason then exactly
// one usage chunk with choices:[] at the end.
func checkChunks(t *testing.T, chunks []string, complete bool) {
	t.Helper()
	finishes, usages := 0, 0
	var id string
	for i, raw := range chunks {
		var c chunk
		if err := json.Unmarshal([]byte(raw), &c); err != nil {
			t.Fatalf("chunk %d is not JSON: %v\n%s", i, err, raw)
		}
		if c.Object != "chat.completion.chunk" || c.Created != fixedNow.Unix() || c.Model == "" {
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
			if ch.FinishReason != nil {
				finishes++
			}
			for _, tc := range ch.Delta.ToolCalls {
				if tc.Index == nil {
					t.Errorf("chunk %d: tool call delta without index: %s", i, raw)
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
	if finishes > 1 || (complete && (finishes != 1 || usages != 1)) {
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
	var content strings.Builder
	var blocks []json.RawMessage
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
			ch.Message.ReasoningContent += d.ReasoningContent
			blocks = append(blocks, d.ThinkingBlocks...)
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
			}
			if cc.FinishReason != nil {
				ch.FinishReason = *cc.FinishReason
			}
		}
	}
	if content.Len() > 0 || len(ch.Message.ToolCalls) == 0 {
		s := content.String()
		ch.Message.Content = &s
	}
	if len(blocks) > 0 {
		ch.Message.ThinkingBlocks, _ = json.Marshal(blocks)
	}
	return out
}

// TestStreamMatchesResponse holds the streamed and non-streamed paths to the same answer for the
// same exchange: content, reasoning, thinking blocks, tool calls, finish reason, id, model and,
// above all, usage.
func TestStreamMatchesResponse(t *testing.T) {
	pairs := 0
	for _, tc := range streamCases {
		resp := filepath.Join("testdata", "responses", tc.name+".json")
		if _, err := os.Stat(resp); err != nil {
			continue
		}
		pairs++
		t.Run(tc.name, func(t *testing.T) {
			chunks, err := drain(t, streamOver(bytes.NewReader(readFile(t, filepath.Join("testdata", tc.name+".sse")))))
			if err != io.EOF {
				t.Fatal(err)
			}
			streamed := assemble(t, chunks)
			body, err := ToChatCompletion(readFile(t, resp), "requested-model")
			if err != nil {
				t.Fatal(err)
			}
			var whole completion
			if err := json.Unmarshal(body, &whole); err != nil {
				t.Fatal(err)
			}
			// Streamed arguments keep Anthropic's spacing; compare them compacted.
			for i := range streamed.Choices[0].Message.ToolCalls {
				s := &streamed.Choices[0].Message.ToolCalls[i].Function.Arguments
				*s = compactArgs(json.RawMessage(*s))
			}
			// thinking_blocks: compare as values, not bytes.
			normalize := func(raw json.RawMessage) any {
				var v any
				_ = json.Unmarshal(raw, &v)
				return v
			}
			sb, wb := normalize(streamed.Choices[0].Message.ThinkingBlocks), normalize(whole.Choices[0].Message.ThinkingBlocks)
			streamed.Choices[0].Message.ThinkingBlocks, whole.Choices[0].Message.ThinkingBlocks = nil, nil
			if !reflect.DeepEqual(sb, wb) {
				t.Errorf("thinking_blocks\nstream: %v\nwhole:  %v", sb, wb)
			}
			if !reflect.DeepEqual(streamed, whole) {
				s, _ := json.MarshalIndent(streamed, "", "  ")
				w, _ := json.MarshalIndent(whole, "", "  ")
				t.Errorf("streamed and non-streamed answers differ\nstream:\n%s\nwhole:\n%s", s, w)
			}
		})
	}
	if pairs < 5 {
		t.Errorf("only %d stream/response pairs", pairs)
	}
}

func TestStreamErrorEvent(t *testing.T) {
	tests := []struct {
		typ    string
		status int
		retry  bool
	}{
		{"overloaded_error", 529, true},
		{"rate_limit_error", 429, true},
		{"api_error", 500, true},
		{"invalid_request_error", 400, false},
		{"something_new", 500, true},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			in := "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"m\",\"usage\":{\"input_tokens\":1}}}\n\n" +
				"event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"" + tt.typ + "\",\"message\":\"boom\"}}\n\n"
			chunks, err := drain(t, streamOver(strings.NewReader(in)))
			var pe *provider.Error
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v", err)
			}
			if pe.Status != tt.status || pe.Type != tt.typ || pe.Message != "boom" || pe.Retryable() != tt.retry {
				t.Errorf("got %+v", pe)
			}
			if len(chunks) != 1 {
				t.Errorf("chunks before the error = %d, want the role chunk", len(chunks))
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
		{"only pings", "event: ping\ndata: {\"type\":\"ping\"}\n\n", nil, "unexpected"},
		{"no message_start", "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"hi\"}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
			[]string{`"model":"requested-model"`, `"content":"hi"`, `"finish_reason":"stop"`, `"usage":{"prompt_tokens":0`}, "eof"},
		{"type from the event name", "event: message_stop\ndata: {}\n\n", []string{`"role":"assistant"`, `"finish_reason":"stop"`, `"usage"`}, "eof"},
		{"done marker ignored", "data: [DONE]\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n", []string{`"role"`, `"finish_reason"`, `"usage"`}, "eof"},
		{"events after message_stop ignored", "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"late\"}}\n\n",
			[]string{`"role"`, `"finish_reason"`, `"usage"`}, "eof"},
		{"last event without blank line", "event: message_stop\ndata: {\"type\":\"message_stop\"}\n", []string{`"role"`, `"finish_reason"`, `"usage"`}, "eof"},
		{"multi-line data", "event: message_stop\ndata: {\"type\":\ndata: \"message_stop\"}\n\n", []string{`"role"`, `"finish_reason"`, `"usage"`}, "eof"},
		{"BOM and comments", "\xEF\xBB\xBF: hi\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n", []string{`"role"`, `"finish_reason"`, `"usage"`}, "eof"},
		{"tool input given at start", "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"f\",\"input\":{\"a\": 1}}}\n\nevent: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
			[]string{`"role"`, `"arguments":""`, `"arguments":"{\"a\":1}"`}, "unexpected"},
		{"message_delta usage without input keeps message_start's", "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"x\",\"usage\":{\"input_tokens\":7,\"cache_read_input_tokens\":3,\"output_tokens\":1}}}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":9}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
			[]string{`"role"`, `"finish_reason":"stop"`, `"usage":{"prompt_tokens":10,"completion_tokens":9,"total_tokens":19,"prompt_tokens_details":{"cached_tokens":3},"cache_creation_input_tokens":0,"cache_read_input_tokens":3}`}, "eof"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
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
		_, _ = pw.Write([]byte("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"x\",\"model\":\"m\"}}\n\n"))
	}()
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
	// One input_json_delta far larger than the read buffer.
	big := strings.Repeat("x", 3<<20)
	in := "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"f\",\"input\":{}}}\n\n" +
		"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"a\\\":\\\"" + big + "\\\"}\"}}\n\n" +
		"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
	chunks, err := drain(t, streamOver(strings.NewReader(in)))
	if err != io.EOF {
		t.Fatal(err)
	}
	if len(chunks) != 5 || !strings.Contains(chunks[2], big) {
		t.Errorf("got %d chunks", len(chunks))
	}
}

func TestStreamReadError(t *testing.T) {
	boom := errors.New("connection reset")
	r := io.MultiReader(strings.NewReader("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"x\"}}\n\n"), iotest.ErrReader(boom))
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

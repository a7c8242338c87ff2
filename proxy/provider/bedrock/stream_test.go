package bedrock

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
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"

	"github.com/clawgate/clawgate/proxy/provider"
	"github.com/clawgate/clawgate/proxy/provider/internal/testkit"
)

// frameSpec is one frame of a testdata/streams/X.events.json transcript (see the README there).
type frameSpec struct {
	Event     string          `json:"event"`
	Exception string          `json:"exception"`
	Error     string          `json:"error"`
	Message   string          `json:"message"`
	Payload   json.RawMessage `json:"payload"`
	Raw       *string         `json:"raw"`
}

// encodeFrames builds the binary event stream Bedrock would send, with the SDK's encoder.
func encodeFrames(t *testing.T, specs []frameSpec) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := eventstream.NewEncoder()
	for i, f := range specs {
		var m eventstream.Message
		switch {
		case f.Event != "":
			m.Headers.Set(":message-type", eventstream.StringValue("event"))
			m.Headers.Set(":event-type", eventstream.StringValue(f.Event))
			m.Headers.Set(":content-type", eventstream.StringValue("application/json"))
		case f.Exception != "":
			m.Headers.Set(":message-type", eventstream.StringValue("exception"))
			m.Headers.Set(":exception-type", eventstream.StringValue(f.Exception))
			m.Headers.Set(":content-type", eventstream.StringValue("application/json"))
		case f.Error != "":
			m.Headers.Set(":message-type", eventstream.StringValue("error"))
			m.Headers.Set(":error-code", eventstream.StringValue(f.Error))
			m.Headers.Set(":error-message", eventstream.StringValue(f.Message))
		default:
			t.Fatalf("frame %d names no event, exception or error", i)
		}
		switch {
		case f.Raw != nil:
			m.Payload = []byte(*f.Raw)
		case f.Payload != nil:
			var c bytes.Buffer
			if err := json.Compact(&c, f.Payload); err != nil {
				t.Fatalf("frame %d payload: %v", i, err)
			}
			m.Payload = c.Bytes()
		}
		if err := enc.Encode(&buf, m); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func loadFrames(t *testing.T, name string) []byte {
	t.Helper()
	var specs []frameSpec
	if err := json.Unmarshal(readFile(t, filepath.Join("testdata", "streams", name+".events.json")), &specs); err != nil {
		t.Fatalf("%s.events.json: %v", name, err)
	}
	return encodeFrames(t, specs)
}

// streamOver builds a Stream over r as Chat would, without HTTP.
func streamOver(r io.Reader) *Stream {
	return NewStream(io.NopCloser(r), claudeModel)
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
	{"guardrail", "eof", 0},
	{"tool_no_args", "eof", 0},
	{"unknown_events", "eof", 0},
	{"error_midstream", "error throttlingException", 429},
	{"stream_unavailable", "error serviceUnavailableException", 503},
	{"error_frame", "error InternalFailure", 500},
	{"no_metadata", "unexpected", 502},
	{"bad_json", "error api_error", 502},
}

// TestStreamGolden translates testdata/streams/X.events.json into X.chunks.jsonl, one chunk per line.
func TestStreamGolden(t *testing.T) {
	for _, tc := range streamCases {
		t.Run(tc.name, func(t *testing.T) {
			in := loadFrames(t, tc.name)
			chunks, err := drain(t, streamOver(bytes.NewReader(in)))
			if got := endKind(err); got != tc.end {
				t.Fatalf("stream ended with %s (%v), want %s", got, err, tc.end)
			}
			if tc.status != 0 {
				if pe := provider.AsError(err); pe.Status != tc.status {
					t.Errorf("status %d, want %d", pe.Status, tc.status)
				}
			}
			checkChunks(t, chunks, tc.end == "eof")

			var out bytes.Buffer
			for _, c := range chunks {
				out.WriteString(c)
				out.WriteByte('\n')
			}
			golden(t, filepath.Join("testdata", "streams", tc.name+".chunks.jsonl"), out.Bytes())

			// The same bytes one at a time give the same chunks: nothing depends on read sizes.
			again, err2 := drain(t, streamOver(iotest.OneByteReader(bytes.NewReader(in))))
			if !reflect.DeepEqual(again, chunks) || endKind(err2) != tc.end {
				t.Errorf("one-byte reads gave %d chunks ending %v, want %d ending %s", len(again), err2, len(chunks), tc.end)
			}
			// And asking Buffered after every chunk, as the gateway does, changes nothing either.
			s := streamOver(iotest.HalfReader(bytes.NewReader(in)))
			var buffered []string
			for {
				p, err := s.Next()
				if err != nil {
					if endKind(err) != tc.end {
						t.Errorf("with Buffered: ended %v", err)
					}
					break
				}
				buffered = append(buffered, string(p))
				s.Buffered()
			}
			if !reflect.DeepEqual(buffered, chunks) {
				t.Errorf("calling Buffered changed the chunks:\n%s", strings.Join(buffered, "\n"))
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
	for i, raw := range chunks {
		var c chunk
		if err := json.Unmarshal([]byte(raw), &c); err != nil {
			t.Fatalf("chunk %d is not JSON: %v\n%s", i, err, raw)
		}
		if c.Object != "chat.completion.chunk" || c.Created != fixedNow.Unix() || c.Model == "" || c.ID != testID {
			t.Errorf("chunk %d head: %s", i, raw)
		}
		if i == 0 && (len(c.Choices) != 1 || c.Choices[0].Delta.Role != "assistant") {
			t.Errorf("first chunk is not the role chunk: %s", raw)
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
	if finishes > 1 || (complete && (finishes != 1 || usages != 1)) || (!complete && usages != 0) {
		t.Errorf("%d finish_reason chunks and %d usage chunks", finishes, usages)
	}
}

// completion is the chat.completion shape both paths are compared in.
type completion struct {
	ID      string      `json:"id"`
	Object  string      `json:"object"`
	Created int64       `json:"created"`
	Model   string      `json:"model"`
	Choices []outChoice `json:"choices"`
	Usage   chatUsage   `json:"usage"`
}

type outChoice struct {
	Index   int `json:"index"`
	Message struct {
		Role             string          `json:"role"`
		Content          *string         `json:"content"`
		ReasoningContent string          `json:"reasoning_content"`
		ThinkingBlocks   json.RawMessage `json:"thinking_blocks"`
		ToolCalls        []toolCall      `json:"tool_calls"`
	} `json:"message"`
	FinishReason string `json:"finish_reason"`
}

type toolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// assemble folds chunks into the chat.completion a client would build from them.
func assemble(t *testing.T, chunks []string) completion {
	t.Helper()
	out := completion{Object: "chat.completion", Choices: make([]outChoice, 1)}
	ch := &out.Choices[0]
	var content strings.Builder
	var blocks []json.RawMessage
	for _, raw := range chunks {
		var c chunk
		if err := json.Unmarshal([]byte(raw), &c); err != nil {
			t.Fatal(err)
		}
		out.ID, out.Model, out.Created = c.ID, c.Model, c.Created
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
// same exchange: content, reasoning, thinking blocks, tool calls, finish reason and, above all,
// usage, so that what a stream is billed is what the same answer unstreamed is billed.
func TestStreamMatchesResponse(t *testing.T) {
	pairs := 0
	for _, tc := range streamCases {
		resp := filepath.Join("testdata", "responses", tc.name+".json")
		if _, err := os.Stat(resp); err != nil {
			continue
		}
		pairs++
		t.Run(tc.name, func(t *testing.T) {
			chunks, err := drain(t, streamOver(bytes.NewReader(loadFrames(t, tc.name))))
			if err != io.EOF {
				t.Fatal(err)
			}
			streamed := assemble(t, chunks)
			body, err := ToChatCompletion(readFile(t, resp), claudeModel)
			if err != nil {
				t.Fatal(err)
			}
			var whole completion
			if err := json.Unmarshal(body, &whole); err != nil {
				t.Fatal(err)
			}
			// Streamed arguments keep Bedrock's spacing; compare them compacted.
			for i := range streamed.Choices[0].Message.ToolCalls {
				s := &streamed.Choices[0].Message.ToolCalls[i].Function.Arguments
				*s = compactArgs(json.RawMessage(*s))
			}
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
	if pairs < 8 {
		t.Errorf("only %d stream/response pairs", pairs)
	}
}

// TestStreamUsage pins the usage figures of the cache transcript: prompt_tokens counts cache
// reads and writes, cached_tokens is the reads.
func TestStreamUsage(t *testing.T) {
	chunks, err := drain(t, streamOver(bytes.NewReader(loadFrames(t, "cache"))))
	if err != io.EOF {
		t.Fatal(err)
	}
	got := assemble(t, chunks).Usage
	want := chatUsage{PromptTokens: 24 + 18432 + 1012, CompletionTokens: 17, TotalTokens: 24 + 18432 + 1012 + 17,
		CacheCreationInputTokens: 1012, CacheReadInputTokens: 18432}
	want.PromptTokensDetails.CachedTokens = 18432
	if got != want {
		t.Errorf("usage = %+v, want %+v", got, want)
	}
}

func TestStreamExceptions(t *testing.T) {
	tests := []struct {
		typ    string
		status int
		retry  bool
	}{
		{"throttlingException", 429, true},
		{"serviceUnavailableException", 503, true},
		{"modelStreamErrorException", 500, true},
		{"internalServerException", 500, true},
		{"validationException", 400, false},
		{"modelTimeoutException", 408, true},
		{"somethingNewException", 500, true},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			in := encodeFrames(t, []frameSpec{
				{Event: "messageStart", Payload: json.RawMessage(`{"role":"assistant"}`)},
				{Exception: tt.typ, Payload: json.RawMessage(`{"message":"boom"}`)},
				{Event: "contentBlockDelta", Payload: json.RawMessage(`{"contentBlockIndex":0,"delta":{"text":"never seen"}}`)},
			})
			s := streamOver(bytes.NewReader(in))
			chunks, err := drain(t, s)
			var pe *provider.Error
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v", err)
			}
			if pe.Status != tt.status || pe.Type != tt.typ || pe.Message != "bedrock: boom" || pe.Retryable() != tt.retry {
				t.Errorf("got %+v", pe)
			}
			if len(chunks) != 1 {
				t.Errorf("chunks before the error = %d, want the role chunk", len(chunks))
			}
			if _, err2 := s.Next(); err2 != err {
				t.Errorf("Next after the error = %v, want the same error", err2)
			}
		})
	}
}

// TestStreamCorruption feeds broken bytes: a frame whose CRC fails (one payload byte flipped by
// hand), a stream cut inside a frame at every possible point, and frames with impossible lengths.
// Each must end with an error, never a panic, a hang or a clean EOF.
func TestStreamCorruption(t *testing.T) {
	good := loadFrames(t, "tool_use")
	full, err := drain(t, streamOver(bytes.NewReader(good)))
	if err != io.EOF {
		t.Fatal(err)
	}

	t.Run("bad CRC", func(t *testing.T) {
		bad := bytes.Clone(good)
		// The third frame carries "I'll look up..."; flip a byte of its text.
		i := bytes.Index(bad, []byte("look up"))
		if i < 0 {
			t.Fatal("marker not found")
		}
		bad[i] ^= 0x20
		s := streamOver(bytes.NewReader(bad))
		chunks, err := drain(t, s)
		var pe *provider.Error
		if !errors.As(err, &pe) || pe.Status != http.StatusBadGateway || !strings.Contains(pe.Message, "CRC") {
			t.Fatalf("err = %#v", err)
		}
		var crc eventstream.ChecksumError
		if !errors.As(err, &crc) {
			t.Errorf("the SDK's checksum error is not wrapped: %v", err)
		}
		if len(chunks) != 1 || strings.Contains(strings.Join(chunks, ""), "Look up") {
			t.Errorf("chunks = %q, want only the role chunk", chunks)
		}
		if err := s.Close(); err != nil {
			t.Errorf("Close = %v", err)
		}
		if _, err := s.Next(); err == nil || err == io.EOF {
			t.Errorf("Next after Close = %v", err)
		}
	})

	t.Run("bad prelude CRC", func(t *testing.T) {
		bad := bytes.Clone(good)
		bad[9] ^= 0xff // inside the first frame's prelude checksum
		_, err := drain(t, streamOver(bytes.NewReader(bad)))
		if pe := provider.AsError(err); pe.Status != http.StatusBadGateway || !strings.Contains(pe.Message, "CRC") {
			t.Errorf("err = %v", err)
		}
	})

	t.Run("truncated anywhere", func(t *testing.T) {
		ends := frameEnds(t, good)
		for cut := 1; cut < len(good); cut++ {
			chunks, err := drain(t, streamOver(bytes.NewReader(good[:cut])))
			if got := endKind(err); got != "unexpected" {
				t.Fatalf("cut at %d: ended %s (%v)", cut, got, err)
			}
			if len(chunks) > len(full) || !slices.Equal(chunks, full[:len(chunks)]) {
				t.Fatalf("cut at %d: chunks are not a prefix of the full stream", cut)
			}
			if _, atBoundary := ends[cut]; !atBoundary && strings.Contains(err.Error(), "before its metadata") {
				t.Errorf("cut at %d inside a frame reported as a clean frame boundary", cut)
			}
		}
	})

	t.Run("impossible lengths", func(t *testing.T) {
		for name, prelude := range map[string][]byte{
			"zero length":          {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
			"shorter than a frame": {0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0},
			"headers past the end": {0, 0, 0, 20, 0, 0, 0, 10, 0, 0, 0, 0},
			"4 GiB":                {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0},
		} {
			_, err := drain(t, streamOver(bytes.NewReader(prelude)))
			if pe := provider.AsError(err); pe.Status != http.StatusBadGateway || !strings.Contains(pe.Message, "invalid length") {
				t.Errorf("%s: err = %v", name, err)
			}
		}
	})

	t.Run("garbage", func(t *testing.T) {
		_, err := drain(t, streamOver(strings.NewReader(`{"message":"this is JSON, not an event stream"}`)))
		if pe := provider.AsError(err); pe.Status != http.StatusBadGateway {
			t.Errorf("err = %v", err)
		}
	})
}

// frameEnds returns the offsets at which frames end in an encoded stream.
func frameEnds(t *testing.T, b []byte) map[int]struct{} {
	t.Helper()
	ends := map[int]struct{}{}
	for off := 0; off < len(b); {
		n := int(b[off])<<24 | int(b[off+1])<<16 | int(b[off+2])<<8 | int(b[off+3])
		off += n
		ends[off] = struct{}{}
	}
	return ends
}

func TestStreamEdges(t *testing.T) {
	ev := func(name, payload string) frameSpec {
		return frameSpec{Event: name, Payload: json.RawMessage(payload)}
	}
	tests := []struct {
		name   string
		frames []frameSpec
		want   []string // substrings, one per chunk
		end    string
	}{
		{"empty body", nil, nil, "unexpected"},
		{"metadata alone", []frameSpec{ev("metadata", `{"usage":{"inputTokens":3,"outputTokens":0,"totalTokens":3}}`)},
			[]string{`"role":"assistant"`, `"finish_reason":"stop"`, `"usage":{"prompt_tokens":3,`}, "eof"},
		{"metadata without usage still ends with a usage chunk", []frameSpec{ev("messageStop", `{"stopReason":"end_turn"}`), ev("metadata", `{"metrics":{"latencyMs":1}}`)},
			[]string{`"role"`, `"finish_reason":"stop"`, `"usage":{"prompt_tokens":0,"completion_tokens":0`}, "eof"},
		{"frames after metadata are not read", []frameSpec{ev("metadata", `{}`), ev("contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"late"}}`)},
			[]string{`"role"`, `"finish_reason"`, `"usage"`}, "eof"},
		{"tool arguments for a block that never started are dropped", []frameSpec{ev("contentBlockDelta", `{"contentBlockIndex":2,"delta":{"toolUse":{"input":"{}"}}}`), ev("metadata", `{}`)},
			[]string{`"role"`, `"finish_reason"`, `"usage"`}, "eof"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chunks, err := drain(t, streamOver(bytes.NewReader(encodeFrames(t, tt.frames))))
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
	s := streamOver(bytes.NewReader(loadFrames(t, "text")))
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

// TestStreamBuffered holds Buffered to its promise: it counts chunks that Next can return without
// a read, it never blocks, and it says 0 when the next chunk has to wait for the upstream, even
// when a frame that yields nothing (a text block's contentBlockStop) is in memory.
func TestStreamBuffered(t *testing.T) {
	ev := func(name, payload string) frameSpec {
		return frameSpec{Event: name, Payload: json.RawMessage(payload)}
	}
	first := encodeFrames(t, []frameSpec{
		ev("messageStart", `{"role":"assistant"}`),
		ev("contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"Hi"}}`),
		ev("contentBlockStop", `{"contentBlockIndex":0}`),
	})
	second := encodeFrames(t, []frameSpec{
		ev("messageStop", `{"stopReason":"end_turn"}`),
		ev("metadata", `{"usage":{"inputTokens":1,"outputTokens":1,"totalTokens":2}}`),
	})
	pr, pw := io.Pipe()
	defer pw.Close()
	go func() { _, _ = pw.Write(first) }()
	s := NewStream(pr, claudeModel) // Close closes the pipe: nothing is left blocked
	defer s.Close()

	within := func(what string, f func()) {
		t.Helper()
		done := make(chan struct{})
		go func() { f(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s blocked", what)
		}
	}
	var (
		p   []byte
		err error
	)
	within("Next", func() { p, err = s.Next() })
	if err != nil || !bytes.Contains(p, []byte(`"role"`)) {
		t.Fatalf("first chunk %s, %v", p, err)
	}
	role := string(p)
	var n int
	within("Buffered", func() { n = s.Buffered() })
	if n == 0 {
		t.Error("Buffered = 0 with the content chunk's frame in memory")
	}
	if string(p) != role {
		t.Error("Buffered overwrote the chunk Next returned")
	}
	within("Next", func() { p, err = s.Next() })
	if err != nil || !bytes.Contains(p, []byte(`"content":"Hi"`)) {
		t.Fatalf("second chunk %s, %v", p, err)
	}
	within("Buffered", func() { n = s.Buffered() })
	if n != 0 {
		t.Errorf("Buffered = %d with only a chunkless frame in memory", n)
	}
	go func() { _, _ = pw.Write(second) }()
	var rest []string
	within("drain", func() { rest, err = drain(t, s) })
	if err != io.EOF || len(rest) != 2 {
		t.Errorf("rest = %q, %v", rest, err)
	}
}

func TestStreamCloseUnblocksNext(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithCancelCause(context.Background())
	s := newStream(ctx, cancel, pr, "id", "m")
	frame := encodeFrames(t, []frameSpec{{Event: "messageStart", Payload: json.RawMessage(`{"role":"assistant"}`)}})
	go func() { _, _ = pw.Write(frame) }()
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

func TestStreamReadError(t *testing.T) {
	boom := errors.New("connection reset")
	frame := encodeFrames(t, []frameSpec{{Event: "messageStart", Payload: json.RawMessage(`{"role":"assistant"}`)}})
	for name, r := range map[string]io.Reader{
		"between frames": io.MultiReader(bytes.NewReader(frame), iotest.ErrReader(boom)),
		"inside a frame": io.MultiReader(bytes.NewReader(frame), bytes.NewReader(frame[:20]), iotest.ErrReader(boom)),
	} {
		_, err := drain(t, streamOver(r))
		var pe *provider.Error
		if !errors.As(err, &pe) || !pe.Transport || pe.Status != http.StatusBadGateway || !errors.Is(err, boom) {
			t.Errorf("%s: err = %#v", name, err)
		}
	}
}

func TestStreamLongEvent(t *testing.T) {
	// One tool input far larger than the read buffer.
	big := strings.Repeat("x", 3<<20)
	in := encodeFrames(t, []frameSpec{
		{Event: "contentBlockStart", Payload: json.RawMessage(`{"contentBlockIndex":0,"start":{"toolUse":{"toolUseId":"t","name":"f"}}}`)},
		{Event: "contentBlockDelta", Payload: json.RawMessage(`{"contentBlockIndex":0,"delta":{"toolUse":{"input":"{\"a\":\"` + big + `\"}"}}}`)},
		{Event: "metadata", Payload: json.RawMessage(`{}`)},
	})
	chunks, err := drain(t, streamOver(bytes.NewReader(in)))
	if err != io.EOF {
		t.Fatal(err)
	}
	if len(chunks) != 5 || !strings.Contains(chunks[2], big) {
		t.Errorf("got %d chunks", len(chunks))
	}
}

var (
	drain   = testkit.Drain
	endKind = testkit.EndKind
)

package proxy

import (
	"context"
	"encoding/json"
	"io"
	"time"

	"github.com/clawgate/clawgate/proxy/provider"
)

// mockUsage is the usage LiteLLM reports for a mock_response. Its spend is $0: the row is kept,
// marked as a mock, so a test run shows in the logs without touching any budget.
const mockUsage = `{"prompt_tokens":10,"completion_tokens":20,"total_tokens":30}`

// mockProvider answers mock_response in place of the deployment's provider, so the request goes
// through every other step (the key, its models, the gate, routing, the relay, the spend row)
// exactly as a real one.
type mockProvider struct {
	text string
	id   string
}

func (m mockProvider) Chat(_ context.Context, req *provider.Request) (*provider.Response, error) {
	content, _ := json.Marshal(m.text)
	model, _ := json.Marshal(req.Model)
	head := `{"id":"chatcmpl-mock-` + m.id + `","created":` + itoa(time.Now().Unix()) + `,"model":` + string(model)
	if !req.Stream {
		body := head + `,"object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":` +
			string(content) + `},"finish_reason":"stop"}],"usage":` + mockUsage + `}`
		return &provider.Response{Body: []byte(body)}, nil
	}
	head += `,"object":"chat.completion.chunk"`
	return &provider.Response{Stream: &mockStream{chunks: []string{
		head + `,"choices":[{"index":0,"delta":{"role":"assistant","content":` + string(content) + `},"finish_reason":null}]}`,
		head + `,"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`,
		head + `,"choices":[],"usage":` + mockUsage + `}`,
	}}}, nil
}

// Complete is the legacy text completion's mock (see completions.go).
func (m mockProvider) Complete(_ context.Context, req *provider.Request) (*provider.Response, error) {
	text, _ := json.Marshal(m.text)
	model, _ := json.Marshal(req.Model)
	head := `{"id":"cmpl-mock-` + m.id + `","object":"text_completion","created":` + itoa(time.Now().Unix()) + `,"model":` + string(model)
	if !req.Stream {
		body := head + `,"choices":[{"index":0,"text":` + string(text) + `,"logprobs":null,"finish_reason":"stop"}],"usage":` + mockUsage + `}`
		return &provider.Response{Body: []byte(body)}, nil
	}
	return &provider.Response{Stream: &mockStream{chunks: []string{
		head + `,"choices":[{"index":0,"text":` + string(text) + `,"logprobs":null,"finish_reason":null}]}`,
		head + `,"choices":[{"index":0,"text":"","logprobs":null,"finish_reason":"stop"}]}`,
		head + `,"choices":[],"usage":` + mockUsage + `}`,
	}}}, nil
}

// mockStream yields fixed chunks, then io.EOF.
type mockStream struct {
	chunks []string
	i      int
}

func (s *mockStream) Next() ([]byte, error) {
	if s.i >= len(s.chunks) {
		return nil, io.EOF
	}
	s.i++
	return []byte(s.chunks[s.i-1]), nil
}

func (s *mockStream) Close() error { return nil }

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

package proxy

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// embedUpstream is one fake server for every provider's embeddings API: it answers each
// documented path with its recorded shape from testdata/embeddings, and keeps what it was sent.
type embedUpstream struct {
	srv    *httptest.Server
	mu     sync.Mutex
	paths  []string
	bodies []string
	base64 bool // answer OpenAI's API in base64 when asked (false: floats always, as some servers do)
}

func newEmbedUpstream(t *testing.T) *embedUpstream {
	e := &embedUpstream{base64: true}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.URL.Path == "/token" {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"access_token":"ya29.vertex","expires_in":3599,"token_type":"Bearer"}`)
			return
		}
		e.mu.Lock()
		e.paths = append(e.paths, r.URL.Path)
		e.bodies = append(e.bodies, string(b))
		e.mu.Unlock()
		file := ""
		p := r.URL.Path
		switch {
		case p == "/v1/embeddings" || p == "/openai/deployments/emb/embeddings":
			file = "openai_float.json"
			if e.base64 && strings.Contains(string(b), `"encoding_format":"base64"`) {
				file = "openai_base64.json"
			}
		case strings.HasSuffix(p, ":embedContent"):
			file = "gemini_embed.json"
		case strings.HasSuffix(p, ":batchEmbedContents"):
			file = "gemini_batch.json"
		case strings.HasSuffix(p, ":predict"):
			file = "vertex_predict.json"
		case strings.Contains(p, "titan-embed") && strings.HasSuffix(p, "/invoke"):
			file = "titan_v2.json"
		case strings.Contains(p, "cohere.embed") && strings.HasSuffix(p, "/invoke"):
			w.Header().Set("X-Amzn-Bedrock-Input-Token-Count", "6")
			file = "cohere_by_type.json"
		case p == "/v1/completions":
			file = "text_completion.json"
			if strings.Contains(string(b), `"stream":true`) {
				w.Header().Set("Content-Type", "text/event-stream")
				w.Write(readTestdataDir(t, "embeddings", "text_completion_stream.sse"))
				return
			}
		default:
			http.Error(w, `{"error":{"message":"no such path `+p+`"}}`, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(readTestdataDir(t, "embeddings", file))
	}))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *embedUpstream) last() (path, body string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.paths) == 0 {
		return "", ""
	}
	return e.paths[len(e.paths)-1], e.bodies[len(e.bodies)-1]
}

func (e *embedUpstream) calls() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.paths)
}

// embedConfig has one route per provider, all at the fake upstream {{U}}.
const embedConfig = `
model_list:
  - model_name: oa-emb
    litellm_params: {model: openai/text-embedding-3-small, api_base: "{{U}}/v1", api_key: sk-up}
  - model_name: az-emb
    litellm_params: {model: azure/emb, api_base: "{{U}}", api_key: az-key, api_version: "2024-10-21"}
    model_info: {base_model: azure/text-embedding-3-small}
  - model_name: gem-emb
    litellm_params: {model: gemini/gemini-embedding-001, api_base: "{{U}}", api_key: g-key}
  - model_name: vx-emb
    litellm_params: {model: vertex_ai/text-embedding-005, api_base: "{{U}}", vertex_project: p, vertex_credentials: '{{CREDS}}'}
  - model_name: titan
    litellm_params: {model: "bedrock/amazon.titan-embed-text-v2:0", api_base: "{{U}}", aws_region_name: us-east-1, aws_access_key_id: AKIDTEST, aws_secret_access_key: secret}
    model_info: {input_cost_per_token: 2.0e-8}
  - model_name: cohere
    litellm_params: {model: bedrock/cohere.embed-english-v3, api_base: "{{U}}", aws_region_name: us-east-1, aws_access_key_id: AKIDTEST, aws_secret_access_key: secret}
    model_info: {input_cost_per_token: 1.0e-7}
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "{{U}}", api_key: a-key}
  - model_name: oa-fail
    litellm_params: {model: openai/text-embedding-3-small, api_base: "{{U}}/fail"}
general_settings: {master_key: ` + masterKey + `}
`

func embedGateway(t *testing.T, opts Options) (*gateway, *embedUpstream) {
	up := newEmbedUpstream(t)
	creds := `{"type":"authorized_user","client_id":"c","client_secret":"s","refresh_token":"1//rt","token_uri":"` + up.srv.URL + `/token"}`
	yaml := strings.NewReplacer("{{U}}", up.srv.URL, "{{CREDS}}", creds).Replace(embedConfig)
	return newGatewayWith(t, yaml, opts), up
}

// embeddingsOf decodes an embeddings answer into float vectors, checking the encoding.
func embeddingsOf(t *testing.T, b []byte, format string) (vectors [][]float32, promptTokens int) {
	t.Helper()
	var l struct {
		Object string `json:"object"`
		Data   []struct {
			Object    string          `json:"object"`
			Index     int             `json:"index"`
			Embedding json.RawMessage `json:"embedding"`
		} `json:"data"`
		Usage struct {
			PromptTokens int `json:"prompt_tokens"`
			TotalTokens  int `json:"total_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(b, &l); err != nil || l.Object != "list" {
		t.Fatalf("not an embedding list: %s", b)
	}
	for i, d := range l.Data {
		if d.Object != "embedding" || d.Index != i {
			t.Errorf("item %d: object %q index %d", i, d.Object, d.Index)
		}
		var v []float32
		if format == "base64" {
			var s string
			if json.Unmarshal(d.Embedding, &s) != nil {
				t.Fatalf("item %d is not base64: %s", i, d.Embedding)
			}
			raw, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				t.Fatal(err)
			}
			for j := 0; j+4 <= len(raw); j += 4 {
				v = append(v, math.Float32frombits(binary.LittleEndian.Uint32(raw[j:])))
			}
		} else if err := json.Unmarshal(d.Embedding, &v); err != nil {
			t.Fatalf("item %d is not a float list: %s", i, d.Embedding)
		}
		vectors = append(vectors, v)
	}
	if l.Usage.TotalTokens != l.Usage.PromptTokens {
		t.Errorf("usage %+v", l.Usage)
	}
	return vectors, l.Usage.PromptTokens
}

func TestEmbeddingsProviders(t *testing.T) {
	g, up := embedGateway(t, Options{})
	two := `["hello world","goodbye"]`
	tests := []struct {
		route, input, format string
		wantPath             string
		wantSent             string // a fragment of the upstream request
		wantN, wantTokens    int
		first                float32 // the first value of the first vector
	}{
		{"oa-emb", two, "", "/v1/embeddings", `"model":"text-embedding-3-small"`, 2, 8, 0.0023064255},
		{"oa-emb", two, "base64", "/v1/embeddings", `"encoding_format":"base64"`, 2, 8, 0.0023064255},
		{"oa-emb", `[[9906,1917],[12840]]`, "float", "/v1/embeddings", `"input":[[9906,1917],[12840]]`, 2, 8, 0.0023064255},
		{"az-emb", `"hello world"`, "base64", "/openai/deployments/emb/embeddings", `"model":"emb"`, 2, 8, 0.0023064255},
		{"gem-emb", `"hello world"`, "", "/v1beta/models/gemini-embedding-001:embedContent", `"content":{"parts":[{"text":"hello world"}]}`, 1, -1, 0.013168523},
		{"gem-emb", two, "base64", "/v1beta/models/gemini-embedding-001:batchEmbedContents", `"requests":[{"model":"models/gemini-embedding-001"`, 2, -1, 0.013168523},
		{"vx-emb", two, "", "/v1/projects/p/locations/us-central1/publishers/google/models/text-embedding-005:predict", `"instances":[{"content":"hello world"},{"content":"goodbye"}]`, 2, 7, 0.0099534},
		{"titan", `"hello world"`, "", "/model/amazon.titan-embed-text-v2:0/invoke", `{"inputText":"hello world"}`, 1, 5, -0.04760742},
		{"cohere", two, "base64", "/model/cohere.embed-english-v3/invoke", `"texts":["hello world","goodbye"],"input_type":"search_document"`, 2, 6, 0.016494751},
	}
	for _, tt := range tests {
		t.Run(tt.route+"/"+tt.format, func(t *testing.T) {
			body := `{"model":"` + tt.route + `","input":` + tt.input
			if tt.format != "" {
				body += `,"encoding_format":"` + tt.format + `"`
			}
			resp := g.do("POST", "/v1/embeddings", body+`}`)
			b := readAll(t, resp.Body)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, b)
			}
			path, sent := up.last()
			if path != tt.wantPath || !strings.Contains(sent, tt.wantSent) {
				t.Errorf("upstream got %s %s; want %s with %s", path, sent, tt.wantPath, tt.wantSent)
			}
			vs, tokens := embeddingsOf(t, b, tt.format)
			if len(vs) != tt.wantN || len(vs[0]) != 4 || vs[0][0] != tt.first {
				t.Errorf("vectors %v, want %d starting %v", vs, tt.wantN, tt.first)
			}
			recs := g.sink.all()
			u := recs[len(recs)-1]
			want := tt.wantTokens
			if want < 0 { // Gemini counts nothing: the local estimate, above zero
				want = u.PromptTokens
				if want <= 0 {
					t.Errorf("no estimate for an upstream without usage")
				}
			}
			if tokens != want || u.PromptTokens != want || u.CallType != "aembedding" || !u.UsageKnown || u.Status != 200 || u.ModelGroup != tt.route {
				t.Errorf("answer tokens %d, record %+v; want %d aembedding tokens", tokens, u, want)
			}
		})
	}

	// Priced from the price table: text-embedding-3-small's input price, 8 tokens.
	resp := g.do("POST", "/embeddings", `{"model":"oa-emb","input":"hello world"}`)
	readAll(t, resp.Body)
	recs := g.sink.all()
	if u := recs[len(recs)-1]; !u.Priced || math.Abs(u.Cost-8*2e-8) > 1e-15 || resp.Header.Get("x-litellm-response-cost") != costString(8*2e-8) {
		t.Errorf("cost %v priced %v header %q, want 8 tokens at $2e-8", u.Cost, u.Priced, resp.Header.Get("x-litellm-response-cost"))
	}
}

// TestEmbeddingsEncodingTranslated: an OpenAI-compatible upstream that ignores encoding_format
// (floats always) still gives the client the base64 it asked for, as the openai SDK asks by default.
func TestEmbeddingsEncodingTranslated(t *testing.T) {
	g, up := embedGateway(t, Options{})
	up.base64 = false
	resp := g.do("POST", "/v1/embeddings", `{"model":"oa-emb","input":["a","b"],"encoding_format":"base64"}`)
	vs, _ := embeddingsOf(t, readAll(t, resp.Body), "base64")
	if len(vs) != 2 || vs[1][0] != -0.012200507 {
		t.Errorf("vectors %v", vs)
	}
}

// TestEmbeddingsRefusals: the attacks and mistakes an embeddings route must refuse before any
// upstream call (or, for a chat-only route, with a clear 400).
func TestEmbeddingsRefusals(t *testing.T) {
	const scoped = "sk-scoped-0123456789"
	g, up := embedGateway(t, Options{Keys: modelListKeys{key: scoped, models: []string{"oa-emb", "oa-fail"}}})
	many := make([]string, 2049)
	for i := range many {
		many[i] = `"x"`
	}
	tests := []struct {
		name, body, key string
		status          int
		wantMsg         string
	}{
		{"a key outside its models", `{"model":"gem-emb","input":"hi"}`, scoped, 403, "key not allowed to access model"},
		{"body fallbacks into a forbidden group", `{"model":"oa-fail","input":"hi","fallbacks":["gem-emb"]}`, scoped, 404, "the key's models do not include them: gem-emb"},
		{"too many inputs", `{"model":"oa-emb","input":[` + strings.Join(many, ",") + `]}`, scoped, 400, "at most 2048"},
		{"empty input", `{"model":"oa-emb","input":[]}`, scoped, 400, "empty"},
		{"no input", `{"model":"oa-emb"}`, scoped, 400, "input is required"},
		{"bad encoding", `{"model":"oa-emb","input":"a","encoding_format":"int8"}`, scoped, 400, "encoding_format"},
		{"mock", `{"model":"oa-emb","input":"a","mock_response":"x"}`, scoped, 400, "mock_response"},
		{"token ids on Gemini", `{"model":"gem-emb","input":[1,2,3]}`, "", 400, "text only"},
		{"a chat-only route", `{"model":"claude","input":"hi"}`, "", 400, "does not serve embeddings"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := masterKey
			if tt.key != "" {
				key = tt.key
			}
			before := up.calls()
			resp := g.do("POST", "/v1/embeddings", tt.body, "Authorization", "Bearer "+key)
			e := errorOf(t, resp)
			if resp.StatusCode != tt.status || !strings.Contains(e.Message, tt.wantMsg) {
				t.Errorf("status %d %q, want %d with %q", resp.StatusCode, e.Message, tt.status, tt.wantMsg)
			}
			if tt.status == 404 { // the allowed group was tried, its forbidden fallback never
				if path, _ := up.last(); up.calls() != before+1 || path != "/fail/embeddings" {
					t.Errorf("upstream calls %d, last %s: want only the failing group's", up.calls()-before, path)
				}
				return
			}
			if up.calls() != before {
				t.Errorf("the upstream was called")
			}
		})
	}
}

// TestEmbeddingsGate: the gate reserves the input's price before the call and is settled with
// the billed cost.
func TestEmbeddingsGate(t *testing.T) {
	gate := &fakeGate{}
	g, _ := embedGateway(t, Options{Gate: gate})
	resp := g.do("POST", "/v1/embeddings", `{"model":"oa-emb","input":"hello world, this is a longer text to embed"}`)
	readAll(t, resp.Body)
	if resp.StatusCode != 200 || len(gate.expected) != 1 || len(gate.settled) != 1 {
		t.Fatalf("status %d, gate %+v", resp.StatusCode, gate)
	}
	if gate.expected[0] <= 0 || len(gate.repriced) != 1 || gate.repriced[0] != gate.expected[0] {
		t.Errorf("reserved %v, repriced %v: want the input's price, above 0", gate.expected, gate.repriced)
	}
	if u := gate.settled[0]; math.Abs(u.Cost-8*2e-8) > 1e-15 || u.CallType != "aembedding" {
		t.Errorf("settled %+v", u)
	}
}

// TestEmbeddingsOversizedBody: a body over general_settings.max_request_size_mb is refused with
// a 413 before any upstream call, on embeddings as on chat.
func TestEmbeddingsOversizedBody(t *testing.T) {
	up := newEmbedUpstream(t)
	yaml := strings.ReplaceAll(`
model_list:
  - model_name: oa-emb
    litellm_params: {model: openai/text-embedding-3-small, api_base: "{{U}}/v1"}
general_settings: {master_key: `+masterKey+`, max_request_size_mb: 0.01}
`, "{{U}}", up.srv.URL)
	g := newGatewayWith(t, yaml, Options{})
	resp := g.do("POST", "/v1/embeddings", `{"model":"oa-emb","input":"`+strings.Repeat("word ", 4000)+`"}`)
	if e := errorOf(t, resp); resp.StatusCode != 413 || !strings.Contains(e.Message, "too large") {
		t.Errorf("status %d %q, want 413", resp.StatusCode, e.Message)
	}
	if up.calls() != 0 {
		t.Errorf("an oversized body reached the upstream")
	}
}

package fakeupstream

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestEmbeddingsAndCompletions(t *testing.T) {
	srv := httptest.NewServer(New())
	defer srv.Close()
	post := func(path, body string) []byte {
		t.Helper()
		resp, err := http.Post(srv.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
		}
		return b
	}
	var f, b64 struct {
		Data []struct {
			Embedding json.RawMessage `json:"embedding"`
		} `json:"data"`
		Model string `json:"model"`
		Usage struct {
			PromptTokens int `json:"prompt_tokens"`
		} `json:"usage"`
	}
	json.Unmarshal(post("/v1/embeddings", `{"model":"m","input":["a","b"]}`), &f)
	json.Unmarshal(post("/v1/embeddings", `{"model":"m","input":["a","b"],"encoding_format":"base64"}`), &b64)
	if len(f.Data) != 2 || f.Model != "m" || f.Usage.PromptTokens != 8 {
		t.Fatalf("%+v", f)
	}
	var floats []float32
	var s string
	json.Unmarshal(f.Data[1].Embedding, &floats)
	json.Unmarshal(b64.Data[1].Embedding, &s)
	raw, _ := base64.StdEncoding.DecodeString(s)
	if len(floats) != embedDims || len(raw) != 4*embedDims || math.Float32frombits(binary.LittleEndian.Uint32(raw)) != floats[0] {
		t.Errorf("float %v vs base64 %q", floats, s)
	}
	out := string(post("/v1/completions", `{"model":"m","prompt":"x","stream":true,"stream_options":{"include_usage":true}}`))
	if !strings.Contains(out, `"finish_reason":"stop"`) || !strings.Contains(out, `"completion_tokens":7`) || !strings.HasSuffix(out, "data: [DONE]\n\n") {
		t.Errorf("stream %s", out)
	}
	if out := string(post("/v1/completions", `{"model":"m","prompt":"x"}`)); !strings.Contains(out, `"object":"text_completion"`) {
		t.Errorf("completion %s", out)
	}
}

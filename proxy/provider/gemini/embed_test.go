package gemini

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestFromEmbeddings(t *testing.T) {
	one, batch, err := FromEmbeddings([]byte(`{"model":"x","input":"hi","dimensions":256}`), "gemini-embedding-001")
	b, _ := json.Marshal(one)
	if err != nil || batch || string(b) != `{"model":"models/gemini-embedding-001","content":{"parts":[{"text":"hi"}]},"outputDimensionality":256}` {
		t.Errorf("one: %s batch %v err %v", b, batch, err)
	}
	many, batch, err := FromEmbeddings([]byte(`{"input":["a","b"]}`), "tunedModels/mine")
	b, _ = json.Marshal(many)
	if err != nil || !batch || !strings.HasPrefix(string(b), `{"requests":[{"model":"tunedModels/mine","content":{"parts":[{"text":"a"}]}}`) {
		t.Errorf("batch: %s %v %v", b, batch, err)
	}
	if _, _, err := FromEmbeddings([]byte(`{"input":[1,2]}`), "m"); err == nil || !strings.Contains(err.Error(), "text only") {
		t.Errorf("token ids: %v", err)
	}
	v, err := FromEmbeddingsVertex([]byte(`{"input":["a","b"]}`))
	b, _ = json.Marshal(v)
	if err != nil || string(b) != `{"instances":[{"content":"a"},{"content":"b"}]}` {
		t.Errorf("vertex: %s %v", b, err)
	}
}

func TestToEmbeddings(t *testing.T) {
	out, err := ToEmbeddings([]byte(`{"embeddings":[{"values":[0.1,0.2]},{"values":[0.3]}]}`), "m")
	if err != nil || string(out) != `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,0.2]},{"object":"embedding","index":1,"embedding":[0.3]}],"model":"m"}` {
		t.Errorf("batch: %s %v", out, err)
	}
	out, err = ToEmbeddings([]byte(`{"embedding":{"values":[0.5]},"usageMetadata":{"promptTokenCount":3}}`), "m")
	if err != nil || !strings.HasSuffix(string(out), `"usage":{"prompt_tokens":3,"total_tokens":3}}`) {
		t.Errorf("single with usage: %s %v", out, err)
	}
	for _, bad := range []string{`{}`, `{"embeddings":[null]}`, `not json`} {
		if _, err := ToEmbeddings([]byte(bad), "m"); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
	out, err = ToEmbeddingsVertex([]byte(`{"predictions":[{"embeddings":{"statistics":{"token_count":4.0},"values":[1]}},{"embeddings":{"statistics":{"token_count":2},"values":[2]}}]}`), "m")
	if err != nil || !strings.HasSuffix(string(out), `"usage":{"prompt_tokens":6,"total_tokens":6}}`) {
		t.Errorf("vertex: %s %v", out, err)
	}
}

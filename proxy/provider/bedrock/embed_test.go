package bedrock

import (
	"testing"
)

func TestEmbedAnswers(t *testing.T) {
	v, n, err := FromTitanAnswer([]byte(`{"embedding":[0.1,-0.2],"inputTextTokenCount":5,"embeddingsByType":{"float":[0.1,-0.2]}}`))
	if err != nil || n != 5 || len(v) != 2 || v[1] != -0.2 {
		t.Errorf("titan v2: %v %d %v", v, n, err)
	}
	if _, _, err := FromTitanAnswer([]byte(`{"inputTextTokenCount":5}`)); err == nil {
		t.Errorf("titan without an embedding: no error")
	}
	// Cohere answers a list without embedding_types and a map by type with them.
	for _, raw := range []string{
		`{"id":"x","embeddings":[[1,2],[3,4]],"response_type":"embeddings_floats","texts":["a","b"]}`,
		`{"id":"x","embeddings":{"float":[[1,2],[3,4]]},"response_type":"embeddings_by_type","texts":["a","b"]}`,
	} {
		vs, err := FromCohereAnswer([]byte(raw))
		if err != nil || len(vs) != 2 || vs[1][1] != 4 {
			t.Errorf("%s: %v %v", raw, vs, err)
		}
	}
	if _, err := FromCohereAnswer([]byte(`{"embeddings":{"int8":[[1]]}}`)); err == nil {
		t.Errorf("cohere without floats: no error")
	}
	for model, want := range map[string]string{
		"amazon.titan-embed-text-v2:0": "titan", "cohere.embed-multilingual-v3": "cohere",
		"us.cohere.embed-english-v3": "cohere", "anthropic.claude-3-haiku": "",
	} {
		if got := embedFamily(model); got != want {
			t.Errorf("%s: %q, want %q", model, got, want)
		}
	}
}

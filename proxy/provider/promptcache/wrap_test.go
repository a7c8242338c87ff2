package promptcache

import (
	"context"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/proxy/provider"
)

type recorder struct{ bodies []string }

func (r *recorder) Chat(_ context.Context, req *provider.Request) (*provider.Response, error) {
	r.bodies = append(r.bodies, string(req.Body))
	return &provider.Response{}, nil
}

type countingRecorder struct{ recorder }

func (countingRecorder) CountTokens(context.Context, []byte, string) ([]byte, error) {
	return []byte(`{"input_tokens":7}`), nil
}

func TestWrap(t *testing.T) {
	body := `{"model":"m","messages":[{"role":"system","content":"rules"},{"role":"user","content":"hi"}]}`
	rec := &recorder{}
	p := Wrap(rec, Plan{})
	req := &provider.Request{Body: []byte(body), Model: "m"}
	if _, err := p.Chat(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(rec.bodies[0], `"cache_control"`); got != 2 {
		t.Errorf("upstream body has %d breakpoints, want 2: %s", got, rec.bodies[0])
	}
	if string(req.Body) != body {
		t.Errorf("the caller's request was changed: %s", req.Body)
	}
	if Wrap(rec, Plan{Off: true}) != provider.Provider(rec) {
		t.Error("a plan that is off still wraps the provider")
	}
	if _, ok := p.(tokenCounter); ok {
		t.Error("a provider that cannot count tokens gained CountTokens")
	}
	tc, ok := Wrap(&countingRecorder{}, Plan{}).(tokenCounter)
	if !ok {
		t.Fatal("wrapping hid CountTokens")
	}
	if b, _ := tc.CountTokens(context.Background(), nil, "m"); string(b) != `{"input_tokens":7}` {
		t.Errorf("CountTokens = %s", b)
	}
}

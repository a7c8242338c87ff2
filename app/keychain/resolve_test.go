package keychain

import (
	"errors"
	"strings"
	"testing"
)

// mapGetter is a Getter over a map, with an optional error for every call.
type mapGetter struct {
	secrets map[string]string
	err     error
}

func (g mapGetter) Get(name string) (string, error) {
	if g.err != nil {
		return "", g.err
	}
	v, ok := g.secrets[name]
	if !ok {
		return "", wrap("get", name, ErrNotFound)
	}
	return v, nil
}

func TestResolve(t *testing.T) {
	const secret = "sk-resolve-secret-value"
	g := mapGetter{secrets: map[string]string{"openai": secret, "a.b-c_d": "x"}}
	down := mapGetter{err: wrap("get", "openai", &timeoutError{})}
	tests := []struct {
		name    string
		ref     string
		getter  Getter
		want    string
		isRef   bool
		wantErr error
		errSays string
	}{
		{"keychain ref", "keychain/openai", g, secret, true, nil, ""},
		{"all name characters", "keychain/a.b-c_d", g, "x", true, nil, ""},
		{"literal key", "sk-literal", g, "sk-literal", false, nil, ""},
		{"env ref is left to the caller", "os.environ/OPENAI_API_KEY", g, "os.environ/OPENAI_API_KEY", false, nil, ""},
		{"empty value", "", g, "", false, nil, ""},
		{"prefix must be exact", "Keychain/openai", g, "Keychain/openai", false, nil, ""},
		{"missing secret", "keychain/anthropic", g, "", true, ErrNotFound, "clawgate keys set anthropic"},
		{"empty name", "keychain/", g, "", true, ErrInvalidName, ""},
		{"bad name", "keychain/has space", g, "", true, ErrInvalidName, ""},
		{"reserved name", "keychain/_index", g, "", true, ErrInvalidName, ""},
		{"no keychain", "keychain/openai", down, "", true, ErrUnavailable, "os.environ/VAR"},
		{"nil getter", "keychain/openai", nil, "", true, ErrUnavailable, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, isRef, err := Resolve(tt.ref, tt.getter)
			if got != tt.want || isRef != tt.isRef {
				t.Errorf("Resolve(%q) = %q, %v; want %q, %v", tt.ref, got, isRef, tt.want, tt.isRef)
			}
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.errSays) {
				t.Errorf("error %q does not say %q", err, tt.errSays)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error leaks a secret: %v", err)
			}
		})
	}
}

// TestResolveStore resolves through the real keychain.
func TestResolveStore(t *testing.T) {
	s := newTestStore(t)
	name := testName("openai")
	if err := s.Set(name, "sk-from-the-keychain"); err != nil {
		t.Fatal(err)
	}
	got, isRef, err := Resolve(RefPrefix+name, s)
	if err != nil || !isRef || got != "sk-from-the-keychain" {
		t.Fatalf("Resolve = %q, %v, %v", got, isRef, err)
	}
	if _, _, err := Resolve(RefPrefix+testName("missing"), s); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing item: err = %v, want ErrNotFound", err)
	}
}

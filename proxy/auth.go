package proxy

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
)

// ErrInvalidKey is what a KeySource returns for a key it does not know.
var ErrInvalidKey = errors.New("invalid key")

// keyHeaders are the headers LiteLLM accepts a key in, after Authorization.
var keyHeaders = []string{"x-litellm-api-key", "api-key", "x-api-key", "x-goog-api-key", "ocp-apim-subscription-key"}

// requestKey returns the key a request carries, or "".
func requestKey(r *http.Request) string {
	if v := r.Header.Get("Authorization"); v != "" {
		return stripScheme(v)
	}
	for _, h := range keyHeaders {
		if v := r.Header.Get(h); v != "" {
			return stripScheme(v)
		}
	}
	return ""
}

// stripScheme removes "Bearer " or "Basic " (any case) from a header value.
func stripScheme(v string) string {
	v = strings.TrimSpace(v)
	for _, s := range []string{"bearer ", "basic "} {
		if len(v) > len(s) && strings.EqualFold(v[:len(s)], s) {
			return strings.TrimSpace(v[len(s):])
		}
	}
	return v
}

// HashKey is the unsalted SHA-256 hex LiteLLM stores for keys.
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// authenticator checks keys against the master key and an optional KeySource.
type authenticator struct {
	masterHash [32]byte
	hasMaster  bool
	keys       KeySource
}

func newAuthenticator(masterKey string, keys KeySource) *authenticator {
	a := &authenticator{keys: keys}
	if masterKey != "" {
		a.masterHash = sha256.Sum256([]byte(masterKey))
		a.hasMaster = true
	}
	return a
}

// authError is a 401 whose message never echoes the key or its hash.
type authError struct{ msg string }

func (e *authError) Error() string { return e.msg }

// check authenticates a request. With no master key, a caller without a known virtual key is
// master, as in LiteLLM (the listener is loopback only and browsers are kept out, see guard.go);
// a virtual key it sends still counts, with its models, budgets and limits, so a key handed to
// one client keeps meaning what it says.
func (a *authenticator) check(ctx context.Context, r *http.Request) (*Principal, error) {
	key := requestKey(r)
	if !a.hasMaster {
		if key != "" && a.keys != nil {
			p, err := a.keys.Authenticate(ctx, key)
			if err == nil || !errors.Is(err, ErrInvalidKey) {
				return p, err // a known key, or a known one refused (blocked, expired)
			}
		}
		return &Principal{Master: true}, nil
	}
	if key == "" {
		return nil, &authError{"No api key passed in. Send it as 'Authorization: Bearer sk-...'."}
	}
	// Compare hashes so the comparison is constant-time whatever the key's length.
	h := sha256.Sum256([]byte(key))
	if subtle.ConstantTimeCompare(h[:], a.masterHash[:]) == 1 {
		return &Principal{Master: true, KeyHash: hex.EncodeToString(h[:])}, nil
	}
	if a.keys != nil {
		p, err := a.keys.Authenticate(ctx, key)
		if err == nil {
			return p, nil
		}
		if !errors.Is(err, ErrInvalidKey) {
			return nil, err
		}
	}
	return nil, &authError{"Authentication Error, Invalid proxy server token passed. Check the key and try again."}
}

// principalKey carries a principal already authenticated by an outer handler (the Messages API
// checks the key before it reads the body, then hands a translated request to handleChat).
type principalKey struct{}

// authenticate returns the caller: the one an outer handler put in the context, else the one its
// key names. Success marks the connection authenticated (see conns.go). Callers answer the error
// in their API's shape.
func (s *Server) authenticate(r *http.Request, st *state) (*Principal, error) {
	if p, ok := r.Context().Value(principalKey{}).(*Principal); ok {
		return p, nil
	}
	p, err := st.auth.check(r.Context(), r)
	if err == nil {
		markAuthenticated(r.Context())
	}
	return p, err
}

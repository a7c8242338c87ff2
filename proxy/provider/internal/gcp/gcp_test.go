package gcp

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// tokenServer is Google's token endpoint as documented: it checks the grant and answers a token.
type tokenServer struct {
	srv   *httptest.Server
	pub   *rsa.PublicKey
	calls atomic.Int32
	mu    sync.Mutex
	last  map[string]string // the last form, and for JWT grants the claims
}

func newTokenServer(t *testing.T, pub *rsa.PublicKey) *tokenServer {
	ts := &tokenServer{pub: pub}
	ts.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts.calls.Add(1)
		r.ParseForm()
		last := map[string]string{}
		for k := range r.PostForm {
			last[k] = r.PostForm.Get(k)
		}
		w.Header().Set("Content-Type", "application/json")
		switch r.PostForm.Get("grant_type") {
		case "urn:ietf:params:oauth:grant-type:jwt-bearer":
			parts := strings.Split(r.PostForm.Get("assertion"), ".")
			sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
			sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
			if len(parts) != 3 || rsa.VerifyPKCS1v15(ts.pub, crypto.SHA256, sum[:], sig) != nil {
				w.WriteHeader(400)
				w.Write([]byte(`{"error":"invalid_grant","error_description":"Invalid JWT Signature."}`))
				return
			}
			claims, _ := base64.RawURLEncoding.DecodeString(parts[1])
			var c map[string]any
			json.Unmarshal(claims, &c)
			for k, v := range c {
				last["jwt."+k] = strings.TrimSpace(strings.Trim(mustJSON(v), `"`))
			}
		case "refresh_token":
			if r.PostForm.Get("refresh_token") != "1//refresh" {
				w.WriteHeader(400)
				w.Write([]byte(`{"error":"invalid_grant","error_description":"Bad Request"}`))
				return
			}
		default:
			w.WriteHeader(400)
			w.Write([]byte(`{"error":"unsupported_grant_type"}`))
			return
		}
		ts.mu.Lock()
		ts.last = last
		ts.mu.Unlock()
		w.Write([]byte(`{"access_token":"ya29.token-` + string(rune('0'+ts.calls.Load())) + `","expires_in":3599,"token_type":"Bearer"}`))
	}))
	t.Cleanup(ts.srv.Close)
	return ts
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

func serviceAccount(t *testing.T, tokenURI string) ([]byte, *rsa.PrivateKey) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	doc, _ := json.Marshal(map[string]string{
		"type": "service_account", "project_id": "my-proj", "private_key_id": "kid1", "private_key": string(pemKey),
		"client_email": "gw@my-proj.iam.gserviceaccount.com", "token_uri": tokenURI,
	})
	return doc, key
}

func TestServiceAccount(t *testing.T) {
	var doc []byte
	var key *rsa.PrivateKey
	doc, key = serviceAccount(t, "")
	srv := newTokenServer(t, &key.PublicKey)
	doc, _ = json.Marshal(func() map[string]string {
		var m map[string]string
		json.Unmarshal(doc, &m)
		m["token_uri"] = srv.srv.URL
		return m
	}())
	ts, err := Parse(doc, http.DefaultClient)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	ts.now = func() time.Time { return now }
	tok, err := ts.Token(context.Background())
	if err != nil || tok != "ya29.token-1" {
		t.Fatalf("token %q, %v", tok, err)
	}
	srv.mu.Lock()
	last := srv.last
	srv.mu.Unlock()
	if last["jwt.iss"] != "gw@my-proj.iam.gserviceaccount.com" || last["jwt.scope"] != Scope || last["jwt.aud"] != srv.srv.URL ||
		last["jwt.iat"] != "1800000000" || last["jwt.exp"] != "1800003600" {
		t.Errorf("claims %v", last)
	}
	if ts.ProjectID() != "my-proj" {
		t.Errorf("project %q", ts.ProjectID())
	}
	// Cached until five minutes before it expires, then renewed.
	now = now.Add(50 * time.Minute)
	if tok, _ := ts.Token(context.Background()); tok != "ya29.token-1" || srv.calls.Load() != 1 {
		t.Errorf("at 50 min: %q after %d calls", tok, srv.calls.Load())
	}
	now = now.Add(5 * time.Minute)
	if tok, _ := ts.Token(context.Background()); tok != "ya29.token-2" || srv.calls.Load() != 2 {
		t.Errorf("at 55 min: %q after %d calls", tok, srv.calls.Load())
	}
}

func TestWrongKeyIsRefused(t *testing.T) {
	doc, _ := serviceAccount(t, "")
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	srv := newTokenServer(t, &other.PublicKey)
	var m map[string]string
	json.Unmarshal(doc, &m)
	m["token_uri"] = srv.srv.URL
	doc, _ = json.Marshal(m)
	ts, err := Parse(doc, http.DefaultClient)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ts.Token(context.Background())
	if err == nil || !strings.Contains(err.Error(), "400") || !strings.Contains(err.Error(), "Invalid JWT Signature") || strings.Contains(err.Error(), "PRIVATE KEY") {
		t.Fatalf("err = %v", err)
	}
}

func TestAuthorizedUserFromFile(t *testing.T) {
	srv := newTokenServer(t, nil)
	path := filepath.Join(t.TempDir(), "adc.json")
	os.WriteFile(path, []byte(`{"type":"authorized_user","client_id":"cid","client_secret":"cs","refresh_token":"1//refresh","quota_project_id":"qp","token_uri":"`+srv.srv.URL+`"}`), 0o600)
	for _, value := range []string{path, ""} {
		t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", path)
		ts, err := Load(value, http.DefaultClient)
		if err != nil {
			t.Fatal(err)
		}
		if tok, err := ts.Token(context.Background()); err != nil || !strings.HasPrefix(tok, "ya29.") || ts.ProjectID() != "qp" {
			t.Fatalf("token %q, %v, project %q", tok, err, ts.ProjectID())
		}
	}
}

func TestBadCredentials(t *testing.T) {
	for name, doc := range map[string]string{
		"not json":     `{`,
		"unknown type": `{"type":"external_account"}`,
		"no key":       `{"type":"service_account","client_email":"a@b"}`,
		"key not PEM":  `{"type":"service_account","client_email":"a@b","private_key":"nope"}`,
		"no refresh":   `{"type":"authorized_user","client_id":"a","client_secret":"b"}`,
	} {
		if _, err := Parse([]byte(doc), http.DefaultClient); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.json"), http.DefaultClient); err == nil || !strings.Contains(err.Error(), "vertex_credentials") {
		t.Errorf("missing file: %v", err)
	}
}

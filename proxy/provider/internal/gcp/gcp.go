// Package gcp gets OAuth2 access tokens for Google Cloud APIs (Vertex AI) from the credentials
// files Google's tools write: a service account key (signed JWT grant) or the application default
// credentials of `gcloud auth application-default login` (refresh token grant).
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
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

const (
	// Scope is what Vertex AI needs.
	Scope           = "https://www.googleapis.com/auth/cloud-platform"
	defaultTokenURI = "https://oauth2.googleapis.com/token"
	// refreshBefore renews a token this long before it expires, so no call carries a stale one.
	refreshBefore = 5 * time.Minute
	maxTokenBody  = 64 << 10
)

// Doer sends one request (an *http.Client or the providers' shared sender).
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// credentials is the part of a credentials file this package reads.
type credentials struct {
	Type string `json:"type"`
	// service_account
	ClientEmail  string `json:"client_email"`
	PrivateKey   string `json:"private_key"`
	PrivateKeyID string `json:"private_key_id"`
	ProjectID    string `json:"project_id"`
	TokenURI     string `json:"token_uri"`
	// authorized_user
	ClientID       string `json:"client_id"`
	ClientSecret   string `json:"client_secret"`
	RefreshToken   string `json:"refresh_token"`
	QuotaProjectID string `json:"quota_project_id"`
}

// TokenSource hands out a cached access token, renewing it shortly before it expires. It is safe
// for concurrent use; one renewal runs at a time.
type TokenSource struct {
	c      credentials
	key    *rsa.PrivateKey
	client Doer
	now    func() time.Time

	mu     sync.Mutex
	token  string
	expiry time.Time
}

// Parse reads a credentials file's JSON. The key and secrets stay in memory only.
func Parse(data []byte, client Doer) (*TokenSource, error) {
	var c credentials
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("credentials are not valid JSON: %v", err)
	}
	ts := &TokenSource{c: c, client: client, now: time.Now}
	if ts.c.TokenURI == "" {
		ts.c.TokenURI = defaultTokenURI
	}
	switch c.Type {
	case "service_account":
		if c.ClientEmail == "" || c.PrivateKey == "" {
			return nil, errors.New("service account credentials lack client_email or private_key")
		}
		key, err := parseKey(c.PrivateKey)
		if err != nil {
			return nil, err
		}
		ts.key = key
	case "authorized_user":
		if c.ClientID == "" || c.ClientSecret == "" || c.RefreshToken == "" {
			return nil, errors.New("authorized user credentials lack client_id, client_secret or refresh_token")
		}
	default:
		return nil, fmt.Errorf("credentials of type %q are not supported (want service_account or authorized_user)", c.Type)
	}
	return ts, nil
}

// Load reads credentials from value, a JSON document or a file path (as LiteLLM's
// vertex_credentials takes either); empty means the environment: GOOGLE_APPLICATION_CREDENTIALS,
// then gcloud's application default credentials file.
func Load(value string, client Doer) (*TokenSource, error) {
	v := strings.TrimSpace(value)
	if strings.HasPrefix(v, "{") {
		return Parse([]byte(v), client)
	}
	path := v
	if path == "" {
		path = os.Getenv("GOOGLE_APPLICATION_CREDENTIALS")
	}
	if path == "" {
		dir, err := os.UserConfigDir()
		if err != nil {
			return nil, errors.New("no credentials: set vertex_credentials or GOOGLE_APPLICATION_CREDENTIALS")
		}
		path = filepath.Join(dir, "gcloud", "application_default_credentials.json")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read credentials: %w (set vertex_credentials, GOOGLE_APPLICATION_CREDENTIALS, or run gcloud auth application-default login)", err)
	}
	return Parse(data, client)
}

// ProjectID is the project the credentials name, if any.
func (ts *TokenSource) ProjectID() string {
	if ts.c.ProjectID != "" {
		return ts.c.ProjectID
	}
	return ts.c.QuotaProjectID
}

func parseKey(p string) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode([]byte(p))
	if block == nil {
		return nil, errors.New("private_key is not PEM")
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		if rk, ok := k.(*rsa.PrivateKey); ok {
			return rk, nil
		}
		return nil, errors.New("private_key is not an RSA key")
	}
	k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		return nil, errors.New("private_key is neither PKCS#8 nor PKCS#1 RSA")
	}
	return k, nil
}

// Token returns a valid access token, fetching a new one when the cached one is about to expire.
func (ts *TokenSource) Token(ctx context.Context) (string, error) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.token != "" && ts.now().Add(refreshBefore).Before(ts.expiry) {
		return ts.token, nil
	}
	form := url.Values{}
	if ts.key != nil {
		jwt, err := ts.assertion()
		if err != nil {
			return "", err
		}
		form.Set("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer")
		form.Set("assertion", jwt)
	} else {
		form.Set("grant_type", "refresh_token")
		form.Set("client_id", ts.c.ClientID)
		form.Set("client_secret", ts.c.ClientSecret)
		form.Set("refresh_token", ts.c.RefreshToken)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ts.c.TokenURI, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := ts.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("token request: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxTokenBody))
	var out struct {
		AccessToken      string `json:"access_token"`
		ExpiresIn        int64  `json:"expires_in"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	_ = json.Unmarshal(body, &out)
	if resp.StatusCode != http.StatusOK || out.AccessToken == "" {
		msg := strings.TrimSpace(out.Error + ": " + out.ErrorDescription)
		if out.Error == "" {
			msg = http.StatusText(resp.StatusCode)
		}
		return "", fmt.Errorf("token endpoint %s answered %d: %s", ts.c.TokenURI, resp.StatusCode, msg)
	}
	if out.ExpiresIn <= 0 {
		out.ExpiresIn = 3600
	}
	ts.token, ts.expiry = out.AccessToken, ts.now().Add(time.Duration(out.ExpiresIn)*time.Second)
	return ts.token, nil
}

// assertion is the signed JWT a service account trades for a token (RFC 7523).
func (ts *TokenSource) assertion() (string, error) {
	now := ts.now().Unix()
	header := map[string]string{"alg": "RS256", "typ": "JWT"}
	if ts.c.PrivateKeyID != "" {
		header["kid"] = ts.c.PrivateKeyID
	}
	claims := map[string]any{"iss": ts.c.ClientEmail, "scope": Scope, "aud": ts.c.TokenURI, "iat": now, "exp": now + 3600}
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString(h) + "." + enc.EncodeToString(c)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, ts.key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("sign the token request: %w", err)
	}
	return signing + "." + enc.EncodeToString(sig), nil
}

// Vertex resolves a Vertex AI deployment's location prefix and token source, as LiteLLM reads
// its vertex_* params: project (else VERTEXAI_PROJECT, GOOGLE_CLOUD_PROJECT, the credentials'
// project), location (else VERTEXAI_LOCATION, us-central1), credentials (see Load) and apiBase,
// which replaces https://LOCATION-aiplatform.googleapis.com. The prefix ends with
// /v1/projects/P/locations/L; publishers' paths go after it.
func Vertex(project, location, credentials, apiBase string, client Doer) (string, *TokenSource, error) {
	ts, err := Load(credentials, client)
	if err != nil {
		return "", nil, err
	}
	project = firstOf(project, os.Getenv("VERTEXAI_PROJECT"), os.Getenv("GOOGLE_CLOUD_PROJECT"), ts.ProjectID())
	if project == "" {
		return "", nil, errors.New("no project: set vertex_project (or VERTEXAI_PROJECT)")
	}
	location = firstOf(location, os.Getenv("VERTEXAI_LOCATION"), "us-central1")
	base := strings.TrimRight(apiBase, "/")
	if base == "" {
		host := location + "-aiplatform.googleapis.com"
		if location == "global" {
			host = "aiplatform.googleapis.com"
		}
		base = "https://" + host
	}
	return base + "/v1/projects/" + url.PathEscape(project) + "/locations/" + url.PathEscape(location), ts, nil
}

func firstOf(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

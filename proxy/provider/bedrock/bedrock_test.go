package bedrock

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clawgate/clawgate/proxy/provider"
)

// isolateAWS points the SDK's default chain at nothing: no credentials or region from the
// machine's environment, files or instance metadata leak into a test.
func isolateAWS(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, k := range []string{
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION",
		"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_BEARER_TOKEN_BEDROCK", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
	} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return dir
}

// upstream is a fake Bedrock Runtime that records the last request and answers with reply.
type upstream struct {
	*httptest.Server
	mu    sync.Mutex
	calls int
	req   *http.Request
	body  []byte
}

func newUpstream(t *testing.T, reply http.HandlerFunc) *upstream {
	t.Helper()
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.calls++
		u.req, u.body = r.Clone(context.Background()), b
		u.mu.Unlock()
		reply(w, r)
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) last() (*http.Request, []byte, int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.req, u.body, u.calls
}

func serve(status int, ctype string, body []byte, extra map[string]string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ctype)
		for k, v := range extra {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}
}

const chatBody = `{"model":"claude","messages":[{"role":"user","content":"Hello"}],"stream_options":{"include_usage":true}}`

func newProvider(t *testing.T, o Options) *Provider {
	t.Helper()
	p, err := New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestChatSigV4(t *testing.T) {
	isolateAWS(t)
	up := newUpstream(t, serve(200, "application/json", readFile(t, filepath.Join("testdata", "responses", "cache.json")),
		map[string]string{"X-Amzn-Requestid": "6f1e2d3c-aaaa-bbbb-cccc-1234567890ab", "X-Internal": "not for clients"}))
	p := newProvider(t, Options{
		Region: "us-east-1", AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
		SessionToken: "session-token", Endpoint: up.URL, MaxTokens: 64000,
		Headers: map[string]string{"x-team": "blue"},
	})
	req := &provider.Request{
		Body: []byte(chatBody), Model: claudeModel,
		Header: http.Header{"Authorization": {"Bearer gateway-key"}, "X-Trace": {"t1"}, "X-Amz-Date": {"spoofed"}, "X-Amz-Target": {"spoofed"}},
	}
	resp, err := p.Chat(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	r, body, _ := up.last()
	if r.RequestURI != "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse" {
		t.Errorf("request URI = %s", r.RequestURI)
	}
	keyID, region, err := checkSigV4(r, body, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
	if err != nil {
		t.Fatal(err)
	}
	if keyID != "AKIDEXAMPLE" || region != "us-east-1" || !strings.Contains(r.Header.Get("Authorization"), "Credential=AKIDEXAMPLE/20251201/us-east-1/bedrock/aws4_request") {
		t.Errorf("Authorization = %s", r.Header.Get("Authorization"))
	}
	if r.Header.Get("X-Amz-Date") != "20251201T115640Z" || r.Header.Get("X-Amz-Security-Token") != "session-token" {
		t.Errorf("X-Amz-Date %q, X-Amz-Security-Token %q", r.Header.Get("X-Amz-Date"), r.Header.Get("X-Amz-Security-Token"))
	}
	signed := authRE.FindStringSubmatch(r.Header.Get("Authorization"))[4]
	for _, h := range []string{"host", "x-amz-date", "x-amz-security-token", "content-type", "x-team", "x-trace"} {
		if !strings.Contains(";"+signed+";", ";"+h+";") {
			t.Errorf("%s is not signed: %s", h, signed)
		}
	}
	if r.Header.Get("X-Team") != "blue" || r.Header.Get("X-Trace") != "t1" || r.Header.Get("Content-Type") != "application/json" || r.Header.Get("X-Amz-Target") != "" {
		t.Errorf("headers = %v", r.Header)
	}
	cr, _ := FromChat([]byte(chatBody), claudeModel, 64000)
	want, _ := marshal(cr)
	if !bytes.Equal(body, want) {
		t.Errorf("sent body %s\nwant %s", body, want)
	}
	var c completion
	if err := json.Unmarshal(resp.Body, &c); err != nil {
		t.Fatal(err)
	}
	if c.ID != "chatcmpl-6f1e2d3c-aaaa-bbbb-cccc-1234567890ab" || c.Model != claudeModel || c.Usage.PromptTokens != 24+18432+1012 || c.Usage.CacheReadInputTokens != 18432 {
		t.Errorf("completion = %s", resp.Body)
	}
	if resp.Header.Get("X-Amzn-Requestid") == "" || resp.Header.Get("X-Internal") != "" {
		t.Errorf("passed headers = %v", resp.Header)
	}
}

// TestChatModelPaths covers the model ids Bedrock takes in the path: cross-region profiles, ARNs
// (whose ":" and "/" must be escaped inside the one path segment) and LiteLLM's converse/ marker.
// The signature must verify for each, since SigV4 signs the escaped path escaped again.
func TestChatModelPaths(t *testing.T) {
	isolateAWS(t)
	tests := []struct{ model, uri string }{
		{"global.anthropic.claude-sonnet-4-5-20250929-v1:0", "/prefix/model/global.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse"},
		{"eu.amazon.nova-pro-v1:0", "/prefix/model/eu.amazon.nova-pro-v1%3A0/converse"},
		{"converse/apac.anthropic.claude-3-haiku-20240307-v1:0", "/prefix/model/apac.anthropic.claude-3-haiku-20240307-v1%3A0/converse"},
		{"arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-7-sonnet-20250219-v1:0",
			"/prefix/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.anthropic.claude-3-7-sonnet-20250219-v1%3A0/converse"},
		{"arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/a1b2c3 d4",
			"/prefix/model/arn%3Aaws%3Abedrock%3Aeu-west-1%3A123456789012%3Aapplication-inference-profile%2Fa1b2c3%20d4/converse"},
	}
	up := newUpstream(t, serve(200, "application/json", readFile(t, filepath.Join("testdata", "responses", "text.json")), nil))
	p := newProvider(t, Options{Region: "eu-west-1", AccessKeyID: "AKIDPATH", SecretAccessKey: "s3cr3t", Endpoint: up.URL + "/prefix/"})
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			if _, err := p.Chat(context.Background(), &provider.Request{Body: []byte(chatBody), Model: tt.model}); err != nil {
				t.Fatal(err)
			}
			r, body, _ := up.last()
			if r.RequestURI != tt.uri {
				t.Errorf("request URI\n got %s\nwant %s", r.RequestURI, tt.uri)
			}
			if _, _, err := checkSigV4(r, body, "s3cr3t"); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestChatBearer(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		env  string
		want string // Authorization: "Bearer ..." or "sigv4"
	}{
		{"api key", Options{APIKey: "ABSKexample-key"}, "", "Bearer ABSKexample-key"},
		{"api key from the environment", Options{Region: "us-west-2"}, "ABSKfrom-env", "Bearer ABSKfrom-env"},
		{"api key wins over the environment", Options{APIKey: "ABSKmine", Region: "us-west-2"}, "ABSKfrom-env", "Bearer ABSKmine"},
		{"static keys win over the environment", Options{Region: "us-west-2", AccessKeyID: "AKIDSTATIC", SecretAccessKey: "x"}, "ABSKfrom-env", "sigv4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateAWS(t)
			t.Setenv(bearerEnv, tt.env)
			up := newUpstream(t, serve(200, "application/json", readFile(t, filepath.Join("testdata", "responses", "text.json")), nil))
			tt.o.Endpoint = up.URL
			p := newProvider(t, tt.o)
			if _, err := p.Chat(context.Background(), &provider.Request{Body: []byte(chatBody), Model: claudeModel}); err != nil {
				t.Fatal(err)
			}
			r, body, _ := up.last()
			got := r.Header.Get("Authorization")
			if tt.want == "sigv4" {
				if _, _, err := checkSigV4(r, body, "x"); err != nil {
					t.Error(err)
				}
				return
			}
			if got != tt.want || r.Header.Get("X-Amz-Date") != "" {
				t.Errorf("Authorization %q X-Amz-Date %q, want %q and no signature", got, r.Header.Get("X-Amz-Date"), tt.want)
			}
		})
	}
}

// TestNewDefaultChain resolves credentials and region the way the SDK does when litellm_params
// names none: the environment, then the shared files with a profile.
func TestNewDefaultChain(t *testing.T) {
	t.Run("environment", func(t *testing.T) {
		isolateAWS(t)
		t.Setenv("AWS_ACCESS_KEY_ID", "AKIDFROMENV")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "envsecret")
		t.Setenv("AWS_REGION", "eu-central-1")
		up := newUpstream(t, serve(200, "application/json", readFile(t, filepath.Join("testdata", "responses", "text.json")), nil))
		p := newProvider(t, Options{Endpoint: up.URL})
		if _, err := p.Chat(context.Background(), &provider.Request{Body: []byte(chatBody), Model: claudeModel}); err != nil {
			t.Fatal(err)
		}
		r, body, _ := up.last()
		if key, region, err := checkSigV4(r, body, "envsecret"); err != nil || key != "AKIDFROMENV" || region != "eu-central-1" {
			t.Errorf("key %s region %s: %v", key, region, err)
		}
	})
	t.Run("profile", func(t *testing.T) {
		dir := isolateAWS(t)
		t.Setenv("AWS_ACCESS_KEY_ID", "AKIDIGNORED") // a named profile wins over the environment
		t.Setenv("AWS_SECRET_ACCESS_KEY", "ignored")
		writeFile(t, filepath.Join(dir, "credentials"), "[work]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = profilesecret\n")
		writeFile(t, filepath.Join(dir, "config"), "[profile work]\nregion = ap-southeast-2\n")
		up := newUpstream(t, serve(200, "application/json", readFile(t, filepath.Join("testdata", "responses", "text.json")), nil))
		p := newProvider(t, Options{Profile: "work", Endpoint: up.URL})
		if _, err := p.Chat(context.Background(), &provider.Request{Body: []byte(chatBody), Model: claudeModel}); err != nil {
			t.Fatal(err)
		}
		r, body, _ := up.last()
		if key, region, err := checkSigV4(r, body, "profilesecret"); err != nil || key != "AKIDPROFILE" || region != "ap-southeast-2" {
			t.Errorf("key %s region %s: %v", key, region, err)
		}
	})
	t.Run("no credentials anywhere", func(t *testing.T) {
		isolateAWS(t)
		up := newUpstream(t, serve(200, "application/json", nil, nil))
		p := newProvider(t, Options{Region: "us-east-1", Endpoint: up.URL})
		_, err := p.Chat(context.Background(), &provider.Request{Body: []byte(chatBody), Model: claudeModel})
		var pe *provider.Error
		if !errors.As(err, &pe) || pe.Status != http.StatusUnauthorized || pe.Type != "authentication_error" || pe.Retryable() {
			t.Errorf("err = %v", err)
		}
		if _, _, calls := up.last(); calls != 0 {
			t.Errorf("%d unsigned calls went upstream", calls)
		}
	})
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"no region", Options{AccessKeyID: "A", SecretAccessKey: "B"}, "no AWS region"},
		{"bearer without region or endpoint", Options{APIKey: "k"}, "no AWS region"},
		{"half a key pair", Options{Region: "us-east-1", AccessKeyID: "A"}, "must be set together"},
		{"unknown profile", Options{Region: "us-east-1", Profile: "nope"}, "nope"},
		{"bad endpoint", Options{Region: "us-east-1", APIKey: "k", Endpoint: "bedrock.example"}, "not an http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateAWS(t)
			_, err := New(context.Background(), tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestEndpoints(t *testing.T) {
	isolateAWS(t)
	for region, host := range map[string]string{
		"us-west-2":  "bedrock-runtime.us-west-2.amazonaws.com",
		"cn-north-1": "bedrock-runtime.cn-north-1.amazonaws.com.cn",
	} {
		p := newProvider(t, Options{Region: region, APIKey: "k"})
		u := p.endpointURL(claudeModel, true)
		if u.String() != "https://"+host+"/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse-stream" ||
			u.Path != "/model/"+claudeModel+"/converse-stream" {
			t.Errorf("%s: %s (path %s)", region, u, u.Path)
		}
	}
}

func TestChatStreamed(t *testing.T) {
	isolateAWS(t)
	frames := loadFrames(t, "tool_use")
	up := newUpstream(t, serve(200, eventStreamType, frames, nil))
	p := newProvider(t, Options{Region: "us-east-1", AccessKeyID: "AKIDSTREAM", SecretAccessKey: "streamsecret", Endpoint: up.URL})
	resp, err := p.Chat(context.Background(), &provider.Request{Body: []byte(chatBody), Model: claudeModel, Stream: true})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Stream.Close()
	chunks, err := drain(t, resp.Stream)
	if err != io.EOF {
		t.Fatal(err)
	}
	want := strings.Split(strings.TrimSuffix(string(readFile(t, filepath.Join("testdata", "streams", "tool_use.chunks.jsonl"))), "\n"), "\n")
	if strings.Join(chunks, "\n") != strings.Join(want, "\n") {
		t.Errorf("chunks over HTTP differ from the golden:\n%s", strings.Join(chunks, "\n"))
	}
	r, body, _ := up.last()
	if r.URL.Path != "/model/"+claudeModel+"/converse-stream" || r.Header.Get("Accept") != eventStreamType || r.Header.Get("Accept-Encoding") != "identity" {
		t.Errorf("path %s accept %q accept-encoding %q", r.URL.Path, r.Header.Get("Accept"), r.Header.Get("Accept-Encoding"))
	}
	if _, _, err := checkSigV4(r, body, "streamsecret"); err != nil {
		t.Error(err)
	}
	if err := resp.Stream.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
}

// TestChatStreamCorrupt sends a frame with a bad CRC through HTTP: the client gets what came
// before it, then a 502, and the stream closes; nothing hangs.
func TestChatStreamCorrupt(t *testing.T) {
	isolateAWS(t)
	frames := loadFrames(t, "text")
	i := bytes.Index(frames, []byte("Hello"))
	frames[i] = 'J'
	up := newUpstream(t, serve(200, eventStreamType, frames, nil))
	p := newProvider(t, Options{APIKey: "k", Endpoint: up.URL})
	resp, err := p.Chat(context.Background(), &provider.Request{Body: []byte(chatBody), Model: claudeModel, Stream: true})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		chunks, err := drain(t, resp.Stream)
		if pe := provider.AsError(err); pe.Status != http.StatusBadGateway || len(chunks) != 1 {
			t.Errorf("%d chunks, err %v", len(chunks), err)
		}
		if err := resp.Stream.Close(); err != nil {
			t.Errorf("Close = %v", err)
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("corrupt stream hung")
	}
}

func TestChatErrors(t *testing.T) {
	const typeNS = ":http://internal.amazon.com/coral/com.amazon.bedrock/"
	tests := []struct {
		name    string
		status  int
		header  map[string]string
		body    string
		typ     string
		msg     string
		retry   bool
		after   time.Duration
		wantSts int
	}{
		{"throttled", 429, map[string]string{"X-Amzn-Errortype": "ThrottlingException" + typeNS, "Retry-After": "3"},
			`{"message":"Too many requests, please wait before trying again."}`, "ThrottlingException", "please wait", true, 3 * time.Second, 429},
		{"validation", 400, map[string]string{"X-Amzn-Errortype": "ValidationException" + typeNS},
			`{"message":"The model returned the following errors: messages: roles must alternate"}`, "ValidationException", "roles must alternate", false, 0, 400},
		{"access denied, capital Message", 403, map[string]string{"X-Amzn-Errortype": "AccessDeniedException"},
			`{"Message":"You don't have access to the model with the specified model ID."}`, "AccessDeniedException", "don't have access", false, 0, 403},
		{"type from the body", 404, nil,
			`{"__type":"com.amazon.coral.service#ResourceNotFoundException","message":"Model not found"}`, "ResourceNotFoundException", "Model not found", false, 0, 404},
		{"unavailable", 503, map[string]string{"X-Amzn-Errortype": "ServiceUnavailableException"}, `{"message":"Bedrock is unable to process your request."}`,
			"ServiceUnavailableException", "unable to process", true, 0, 503},
		{"html from a proxy", 502, nil, `<html><head><title>502 Bad Gateway</title></head></html>`, "", "502 Bad Gateway", true, 0, 502},
		{"empty", 500, nil, ``, "", "Internal Server Error", true, 0, 500},
		{"redirect", 301, map[string]string{"Location": "https://elsewhere.example/"}, ``, "api_error", "check the endpoint", true, 0, 502},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateAWS(t)
			up := newUpstream(t, serve(tt.status, "application/json", []byte(tt.body), tt.header))
			p := newProvider(t, Options{APIKey: "k", Endpoint: up.URL})
			_, err := p.Chat(context.Background(), &provider.Request{Body: []byte(chatBody), Model: claudeModel})
			var pe *provider.Error
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v", err)
			}
			if pe.Status != tt.wantSts || pe.Type != tt.typ || !strings.Contains(pe.Message, tt.msg) || pe.Retryable() != tt.retry || pe.RetryAfter != tt.after {
				t.Errorf("got %+v", pe)
			}
		})
	}
}

func TestChatWrongContentType(t *testing.T) {
	isolateAWS(t)
	t.Run("stream answered with JSON", func(t *testing.T) {
		up := newUpstream(t, serve(200, "application/json", []byte(`{"message":"streaming is not enabled"}`), nil))
		p := newProvider(t, Options{APIKey: "k", Endpoint: up.URL})
		_, err := p.Chat(context.Background(), &provider.Request{Body: []byte(chatBody), Model: claudeModel, Stream: true})
		if pe := provider.AsError(err); pe.Status != http.StatusBadGateway || !strings.Contains(pe.Message, "streaming is not enabled") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("non-stream answered with an event stream", func(t *testing.T) {
		up := newUpstream(t, serve(200, eventStreamType, loadFrames(t, "text"), nil))
		p := newProvider(t, Options{APIKey: "k", Endpoint: up.URL})
		_, err := p.Chat(context.Background(), &provider.Request{Body: []byte(chatBody), Model: claudeModel})
		if pe := provider.AsError(err); pe.Status != http.StatusBadGateway {
			t.Errorf("err = %v", err)
		}
	})
}

func TestChatBadRequestStaysLocal(t *testing.T) {
	isolateAWS(t)
	up := newUpstream(t, serve(200, "application/json", nil, nil))
	p := newProvider(t, Options{APIKey: "k", Endpoint: up.URL})
	body := `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/cat.png"}}]}]}`
	_, err := p.Chat(context.Background(), &provider.Request{Body: []byte(body), Model: claudeModel})
	if pe := provider.AsError(err); pe.Status != http.StatusBadRequest {
		t.Errorf("err = %v", err)
	}
	if _, _, calls := up.last(); calls != 0 {
		t.Errorf("%d calls went upstream", calls)
	}
}

func TestChatTransport(t *testing.T) {
	isolateAWS(t)
	t.Run("connection refused", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		p := newProvider(t, Options{APIKey: "k", Endpoint: url})
		_, err := p.Chat(context.Background(), &provider.Request{Body: []byte(chatBody), Model: claudeModel})
		if pe := provider.AsError(err); !pe.Transport || pe.Status != http.StatusBadGateway || !pe.Retryable() {
			t.Errorf("err = %#v", err)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		release := make(chan struct{})
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { <-release })
		defer close(release)
		p := newProvider(t, Options{APIKey: "k", Endpoint: up.URL})
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := p.Chat(ctx, &provider.Request{Body: []byte(chatBody), Model: claudeModel})
		if pe := provider.AsError(err); pe.Status != http.StatusGatewayTimeout || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %#v", err)
		}
	})
}

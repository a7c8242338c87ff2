package httpx

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/clawgate/clawgate/proxy/provider"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name, v string
		want    time.Duration
	}{
		{"absent", "", 0},
		{"seconds", "30", 30 * time.Second},
		{"fraction", "1.5", 1500 * time.Millisecond},
		{"negative", "-3", 0},
		{"clamped", "999999999", MaxRetryAfter},
		{"date", now.Add(time.Minute).Format(http.TimeFormat), time.Minute},
		{"past date", now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"junk", "soon", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.v != "" {
				h.Set("Retry-After", tt.v)
			}
			if got := RetryAfter(h, now); got != tt.want {
				t.Errorf("RetryAfter(%q) = %v, want %v", tt.v, got, tt.want)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in string
		n  int
	}{
		{"short", 10},
		{strings.Repeat("é", 100), 11},
		{strings.Repeat("x", 2000), MaxMessage},
	}
	for _, tt := range tests {
		got := Truncate(tt.in, tt.n)
		if len(got) > tt.n || !utf8.ValidString(got) {
			t.Errorf("Truncate(%.10q, %d) = %d bytes, valid %v", tt.in, tt.n, len(got), utf8.ValidString(got))
		}
		if len(tt.in) <= tt.n && got != tt.in {
			t.Errorf("Truncate changed a short string: %q", got)
		}
	}
}

func TestHTMLMessage(t *testing.T) {
	got := HTMLMessage([]byte("<html><head><TITLE>502  Bad\nGateway</title></head></html>"))
	if want := "upstream answered with an HTML page: 502 Bad Gateway"; got != want {
		t.Errorf("HTMLMessage = %q, want %q", got, want)
	}
}

func TestStatusError(t *testing.T) {
	decode := func(status int, _ http.Header, body []byte) *provider.Error {
		return &provider.Error{Status: status, Message: string(body)}
	}
	tests := []struct {
		name        string
		status      int
		location    string
		wantStatus  int
		wantMessage string
	}{
		{"redirect", http.StatusFound, "https://elsewhere/", http.StatusBadGateway, "p: upstream redirected (302 Found) to https://elsewhere/; check it"},
		// A redirect (http to https, say) keeps the api_base's query; its key must not reach the client.
		{"redirect with credentials", http.StatusMovedPermanently, "https://u:SECRET@elsewhere/v1/chat/completions?api-key=SECRET#x", http.StatusBadGateway,
			"p: upstream redirected (301 Moved Permanently) to https://elsewhere/v1/chat/completions; check it"},
		{"unparseable redirect", http.StatusFound, "https://u:SECRET@elsewhere/%zz?key=SECRET", http.StatusBadGateway, "p: upstream redirected (302 Found) to an address that does not parse; check it"},
		{"error", http.StatusTeapot, "", http.StatusTeapot, "body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			if tt.location != "" {
				rec.Header().Set("Location", tt.location)
			}
			rec.WriteHeader(tt.status)
			rec.Body.WriteString("body")
			e := StatusError(rec.Result(), "p: ", "check it", decode)
			if e.Status != tt.wantStatus || e.Message != tt.wantMessage {
				t.Errorf("StatusError = %d %q, want %d %q", e.Status, e.Message, tt.wantStatus, tt.wantMessage)
			}
		})
	}
}

func TestReadBody(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		limit   int64
		wantErr bool
	}{
		{"fits", "hello", 5, false},
		{"too large", "hello!", 5, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := &http.Response{ContentLength: -1, Body: io.NopCloser(strings.NewReader(tt.body))}
			got, err := ReadBody(resp, "p: ", tt.limit)
			var pe *provider.Error
			switch {
			case tt.wantErr && (!errors.As(err, &pe) || pe.Status != http.StatusBadGateway || !strings.HasPrefix(pe.Message, "p: ")):
				t.Errorf("ReadBody error = %v, want a 502 starting with the prefix", err)
			case !tt.wantErr && (err != nil || string(got) != tt.body):
				t.Errorf("ReadBody = %q, %v", got, err)
			}
		})
	}
}

func TestKeepHeaders(t *testing.T) {
	h := http.Header{"A": {"1"}, "B": {"2"}}
	if got := KeepHeaders(h, "A", "C"); len(got) != 1 || got.Get("A") != "1" {
		t.Errorf("KeepHeaders = %v", got)
	}
	if got := KeepHeaders(h, "C"); got != nil {
		t.Errorf("KeepHeaders with nothing to keep = %v, want nil", got)
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestFailure(t *testing.T) {
	closed := errors.New("p: stream closed")
	live := context.Background()
	cancelled, cancel := context.WithCancelCause(context.Background())
	cancel(closed)
	tests := []struct {
		name   string
		ctx    context.Context
		err    error
		status int // 0: not a *provider.Error
		is     error
	}{
		{"timeout", live, timeoutErr{}, http.StatusGatewayTimeout, nil},
		{"refused", live, errors.New("connection refused"), http.StatusBadGateway, nil},
		{"closed", cancelled, errors.New("read on closed body"), 0, closed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Failure(tt.ctx, "p", "reading", tt.err, closed)
			var pe *provider.Error
			if tt.status != 0 && (!errors.As(err, &pe) || pe.Status != tt.status || !pe.Transport) {
				t.Errorf("Failure = %v, want a transport error with status %d", err, tt.status)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("Failure = %v, want %v", err, tt.is)
			}
		})
	}
}

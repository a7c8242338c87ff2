package openai

import (
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		header http.Header
		want   time.Duration
	}{
		{"none", http.Header{}, 0},
		{"seconds", http.Header{"Retry-After": {"7"}}, 7 * time.Second},
		{"fractional seconds", http.Header{"Retry-After": {"1.5"}}, 1500 * time.Millisecond},
		{"milliseconds win", http.Header{"Retry-After": {"7"}, "Retry-After-Ms": {"250"}}, 250 * time.Millisecond},
		{"bad milliseconds fall back", http.Header{"Retry-After": {"7"}, "Retry-After-Ms": {"soon"}}, 7 * time.Second},
		{"http date", http.Header{"Retry-After": {"Sun, 01 Mar 2026 12:00:30 GMT"}}, 30 * time.Second},
		{"date in the past", http.Header{"Retry-After": {"Sun, 01 Mar 2026 11:00:00 GMT"}}, 0},
		{"negative", http.Header{"Retry-After": {"-3"}}, 0},
		{"garbage", http.Header{"Retry-After": {"later"}}, 0},
		{"huge is clamped", http.Header{"Retry-After": {"1e30"}}, maxRetryAfter},
		{"NaN is ignored", http.Header{"Retry-After-Ms": {"NaN"}, "Retry-After": {"2"}}, 2 * time.Second},
		{"infinity is clamped", http.Header{"Retry-After": {"+Inf"}}, maxRetryAfter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := retryAfter(tt.header, now); got != tt.want {
				t.Errorf("retryAfter = %v, want %v", got, tt.want)
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
		{strings.Repeat("a", 2000), 1024},
		{strings.Repeat("é", 2000), 1024},
		{strings.Repeat("😀", 2000), 1024},
	}
	for _, tt := range tests {
		got := truncate(tt.in, tt.n)
		if len(got) > tt.n || !utf8.ValidString(got) {
			t.Errorf("truncate(%.10q, %d) = %d bytes, valid %v", tt.in, tt.n, len(got), utf8.ValidString(got))
		}
		if len(tt.in) <= tt.n && got != tt.in {
			t.Errorf("short input changed: %q", got)
		}
	}
}

func TestStreamStatus(t *testing.T) {
	tests := []struct {
		code, typ string
		want      int
	}{
		{"", "", 500},
		{"429", "", 429},
		{"404", "", 404},
		{"200", "", 500}, // not an error status
		{"rate_limit_exceeded", "", 429},
		{"insufficient_quota", "insufficient_quota", 429},
		{"", "overloaded_error", 529},
		{"context_length_exceeded", "invalid_request_error", 400},
		{"invalid_api_key", "", 401},
		{"", "server_error", 500},
	}
	for _, tt := range tests {
		if got := streamStatus(tt.code, tt.typ); got != tt.want {
			t.Errorf("streamStatus(%q, %q) = %d, want %d", tt.code, tt.typ, got, tt.want)
		}
	}
}

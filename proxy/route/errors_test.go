package route

import (
	"testing"
	"time"
)

func TestRetryAfterFrom(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	tests := []struct {
		in, want time.Duration
	}{
		{-time.Second, time.Second},
		{0, time.Second},
		{time.Millisecond, time.Second},
		{time.Second, time.Second},
		{time.Second + time.Nanosecond, 2 * time.Second},
		{2300 * time.Millisecond, 3 * time.Second},
		{5 * time.Second, 5 * time.Second},
	}
	for _, tt := range tests {
		if got := retryAfterFrom(now, now.Add(tt.in)); got != tt.want {
			t.Errorf("retryAfterFrom(+%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestErrorMessages(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{&CooldownError{Group: "gpt-4o", RetryAfter: 5 * time.Second},
			"No deployments available for selected model, Try again in 5 seconds. Passed model=gpt-4o."},
		{&UnknownModelError{Model: "x"},
			"Invalid model name passed in model=x. Call `/v1/models` to view available models for your key."},
		{&UnknownModelError{Model: "x", Available: []string{"a", "openai/*"}},
			"Invalid model name passed in model=x. Call `/v1/models` to view available models for your key. Available models: a, openai/*"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("got  %q\nwant %q", got, tt.want)
		}
	}
}

package messages

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/clawgate/clawgate/proxy/provider"
)

func TestErrorBody(t *testing.T) {
	for _, tc := range []struct {
		status int
		want   string
	}{
		{400, "invalid_request_error"}, {401, "authentication_error"}, {402, "billing_error"},
		{403, "permission_error"}, {404, "not_found_error"}, {413, "request_too_large"},
		{422, "invalid_request_error"}, {429, "rate_limit_error"}, {500, "api_error"}, {502, "api_error"},
		{503, "overloaded_error"}, {504, "timeout_error"}, {529, "overloaded_error"},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			got := string(ErrorBody(tc.status, `bad "thing" <here>`))
			want := `{"type":"error","error":{"type":"` + tc.want + `","message":"bad \"thing\" <here>"}}`
			if got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}

func TestErrorFrom(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		status int
		body   string
	}{
		{"anthropic type kept", &provider.Error{Status: 529, Type: "overloaded_error", Message: "Overloaded"}, 529,
			`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`},
		{"openai type replaced", &provider.Error{Status: 429, Type: "insufficient_quota", Message: "quota"}, 429,
			`{"type":"error","error":{"type":"rate_limit_error","message":"quota"}}`},
		{"translation error", badRequest("messages: at least one message is required"), 400,
			`{"type":"error","error":{"type":"invalid_request_error","message":"messages: at least one message is required"}}`},
		{"wrapped", fmt.Errorf("attempt 2: %w", &provider.Error{Status: 401, Message: "invalid x-api-key"}), 401,
			`{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`},
		{"timeout", context.DeadlineExceeded, 504, `{"type":"error","error":{"type":"timeout_error","message":"upstream timed out"}}`},
		{"plain", errors.New("dial tcp: refused"), 502, `{"type":"error","error":{"type":"api_error","message":"dial tcp: refused"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := ErrorFrom(tc.err)
			if status != tc.status || string(body) != tc.body {
				t.Errorf("got %d %s\nwant %d %s", status, body, tc.status, tc.body)
			}
		})
	}
}

package bedrock

import (
	"testing"

	"github.com/clawgate/clawgate/proxy/provider/internal/testkit"
)

// FuzzFromChat translates arbitrary client chat bodies (see testkit.FuzzFromChat).
func FuzzFromChat(f *testing.F) {
	testkit.FuzzFromChat(f, func(body []byte) (any, error) {
		return FromChat(body, "anthropic.claude-sonnet-4-5-20250929-v1:0", 1024)
	})
}

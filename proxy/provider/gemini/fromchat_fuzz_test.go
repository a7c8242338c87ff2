package gemini

import (
	"testing"

	"github.com/clawgate/clawgate/proxy/provider/internal/testkit"
)

// FuzzFromChat translates arbitrary client chat bodies (see testkit.FuzzFromChat).
func FuzzFromChat(f *testing.F) {
	testkit.FuzzFromChat(f, func(body []byte) (any, error) { return FromChat(body, "gemini-2.5-flash") })
}

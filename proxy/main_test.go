package proxy

import (
	"fmt"
	"net/http"
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/clawgate/clawgate/proxy/provider/openai"
)

// TestMain fails the package when goroutines outlive its tests: a stream's upstream call runs
// past its handler (to drain the body for reuse) and must still end.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		// Idle keep-alive connections park two goroutines each; they are a pool, not a leak.
		http.DefaultTransport.(*http.Transport).CloseIdleConnections()
		openai.Transport().CloseIdleConnections()
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goroutines left after the tests:", err)
			code = 1
		}
	}
	os.Exit(code)
}

package proxy

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// BenchmarkStreamRelay measures the gateway's own work on a stream: an in-process upstream
// replaying a recorded SSE transcript, relayed to a client that reads it all.
func BenchmarkStreamRelay(b *testing.B) {
	up := newUpstream(&testing.T{}).always(reply{file: "stream_usage.sse"})
	defer up.srv.Close()
	g := newGateway(&testing.T{}, oneModel, up)
	defer g.srv.Close()
	body := `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}`
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("POST", g.srv.URL+"/v1/chat/completions", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+masterKey)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}

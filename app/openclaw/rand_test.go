package openclaw

import (
	"math/rand/v2"
	"testing"
)

// TestEditGenerated runs the fuzz property over a few thousand generated documents on every
// `go test`, beyond the committed seed corpus.
func TestEditGenerated(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 4000; i++ {
		data := make([]byte, 16+r.IntN(400))
		for j := range data {
			data[j] = byte(r.Uint32())
		}
		checkEdit(t, data)
	}
}

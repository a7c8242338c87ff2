package proxy

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"sync"
	"time"
)

// A client that hangs up must not make a call cheaper than reading it to the end: the upstream
// bills the tokens it generates, and its usage comes last. So when the client goes, the gateway
// keeps reading the upstream, within these bounds, for its usage; where a bound stops it first,
// it bills what the upstream sent at an estimate (~4 bytes a token) and says so in the row.
const (
	defaultDrainFor   = 60 * time.Second
	defaultDrainBytes = 8 << 20
)

// errDrainBound ends the reading of a stream whose client left, at the byte bound.
var errDrainBound = errors.New("the upstream sent more than the gateway reads for a client that has left")

// drainLimits bound the reading of an upstream whose client has gone. Zero fields take the defaults.
type drainLimits struct {
	For   time.Duration // how long after the client left
	Bytes int64         // how many more bytes of events
}

func (d drainLimits) forOr() time.Duration {
	if d.For > 0 {
		return d.For
	}
	return defaultDrainFor
}

func (d drainLimits) bytesOr() int64 {
	if d.Bytes > 0 {
		return d.Bytes
	}
	return defaultDrainBytes
}

// upstreamContext is the context of a request's upstream calls. It is not r.Context(): net/http
// cancels that when the handler returns, and a finished stream is drained after its client's
// response has ended (cancelling it mid-drain would cost the upstream connection: measured, under a
// streaming load most of them were being redialled). Nor does it end the moment the client goes:
// it ends grace later, so that the call can still be read to its usage. detach, called before the
// handler returns, unhooks it from r.Context(); release ends it.
func upstreamContext(r *http.Request, grace time.Duration) (ctx context.Context, detach func() bool, release context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	var (
		mu    sync.Mutex
		t     *time.Timer
		ended bool
	)
	detach = context.AfterFunc(r.Context(), func() {
		mu.Lock()
		defer mu.Unlock()
		if !ended {
			t = time.AfterFunc(grace, cancel)
		}
	})
	return ctx, detach, func() {
		detach()
		mu.Lock()
		ended = true
		if t != nil {
			t.Stop()
		}
		mu.Unlock()
		cancel()
	}
}

// textKeys are the delta fields whose string values are generated tokens.
var textKeys = [...][]byte{[]byte(`"content":"`), []byte(`"reasoning_content":"`), []byte(`"arguments":"`)}

// textLen is the length of the generated text in a chunk (escapes counted as written): what a
// stream cut short is billed on.
func textLen(p []byte) int { return textLenOf(p, textKeys[:]) }

// textLenOf is textLen for the given keys (another API's delta fields).
func textLenOf(p []byte, keys [][]byte) int {
	n := 0
	for _, k := range keys {
		rest := p
		for {
			i := bytes.Index(rest, k)
			if i < 0 {
				break
			}
			rest = rest[i+len(k)-1:] // at the value's opening quote
			end := valueEnd(rest)
			if end < 2 {
				break
			}
			n += end - 2
			rest = rest[end:]
		}
	}
	return n
}

// settleGone fills the usage of a stream whose client left (why says how). With the upstream read
// to its end, its usage stands. Otherwise the call is billed at least at the estimate of what the
// upstream sent: the prompt at ~4 bytes a token, and the text it generated likewise.
func (ss *streamState) settleGone(u *Usage, req *chatRequest, why string, readToEnd bool) {
	u.Status = 499
	u.ResponseID = ss.id
	u.setUsage(ss.usageRaw)
	if u.UsageKnown && readToEnd {
		u.Error = "client went away mid-stream (" + why + "); the upstream was read to its end for its usage"
		u.price(u.dep)
		return
	}
	u.UsageKnown = true
	u.PromptTokens = max(u.PromptTokens, len(req.body)/4+1)
	u.CompletionTokens = max(u.CompletionTokens, (ss.text+3)/4)
	u.Error = "client went away mid-stream (" + why + "); usage estimated: the upstream's usage did not come within the bounds"
	u.price(u.dep)
}

// estimateCut bills the prompt of a call that was cut before it answered, at the estimate, when
// the cut was the gateway's (its bound on a client that left, or its idle timeout): the upstream
// has read the prompt by then. A call that failed on its own is not billed.
func (u *Usage) estimateCut(err error) {
	if u.dep == nil || u.UsageKnown || !errors.Is(err, context.Canceled) {
		return
	}
	u.UsageKnown = true
	u.PromptTokens = len(u.RequestBody)/4 + 1
	u.Error += "; usage estimated: the upstream call was cut at the gateway's bound after the client left"
	u.price(u.dep)
}

package proxy

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/clawgate/clawgate/proxy/pricing"
	"github.com/clawgate/clawgate/proxy/route"
)

// A request's expected cost is what a budget reserves for it while it is in flight: its input as
// counted here, plus an output estimate learnt from what its deployment returned lately. It is an
// expectation, not a bound; the reservation settles to the real cost when the usage arrives.

// Token figures the providers document for images, which a byte count cannot see: an image URL
// is a hundred bytes, a base64 image megabytes, and neither is what the model bills.
const (
	// imageTokens is a full-detail image: Anthropic bills about width×height/750 tokens, ~1,600
	// for the 1.15-megapixel size it scales to; OpenAI 765 to 1,105 for one at high detail.
	imageTokens = 1600
	// lowDetailImageTokens is an image sent with "detail": "low" (OpenAI: 85).
	lowDetailImageTokens = 85
	// toolsTokens is the system prompt a provider adds when tools are offered (Anthropic
	// documents 346 tokens with tool_choice auto); the tools' own JSON is counted as text.
	toolsTokens = 350
)

// inputTokens estimates a chat request's prompt tokens from its body: ASCII text at 4 bytes a
// token, each other character as a token of its own (CJK text is about one token a character,
// which bytes/4 would count as 0.75), image parts at the figures above instead of their bytes,
// and the tool prompt when tools are offered.
func inputTokens(body []byte) int {
	n := textTokens(body) + 1
	for rest := body; ; {
		i := bytes.Index(rest, []byte(`"image_url"`))
		if i < 0 {
			break
		}
		rest = rest[i+len(`"image_url"`):]
		v := afterColon(rest)
		if v == nil {
			continue // "type":"image_url": the part's url follows as a key
		}
		end := valueEnd(v)
		if end == 0 {
			break
		}
		part := v[:end]
		n -= len(part) / 4
		if detail, ok := valueAfterKey(part, `"detail"`, false); ok && string(detail) == `"low"` {
			n += lowDetailImageTokens
		} else {
			n += imageTokens
		}
		rest = v[end:]
	}
	if _, ok := valueAfterKey(body, `"tools"`, false); ok {
		n += toolsTokens
	}
	return max(n, 1)
}

// textTokens is ASCII bytes / 4 plus one per other character. It skips ASCII eight bytes at a
// time: it runs over every prompt, tens of kilobytes for an agent.
func textTokens(b []byte) int {
	other, chars := 0, 0
	count := func(p []byte) {
		for _, c := range p {
			if c >= 0x80 {
				other++
				if c >= 0xC0 { // the first byte of a multi-byte character
					chars++
				}
			}
		}
	}
	i := 0
	for ; i+8 <= len(b); i += 8 {
		if binary.LittleEndian.Uint64(b[i:])&0x8080808080808080 != 0 {
			count(b[i : i+8])
		}
	}
	count(b[i:])
	return (len(b)-other)/4 + chars
}

// afterColon returns what follows a key's colon, or nil when p does not start with one.
func afterColon(p []byte) []byte {
	p = bytes.TrimLeft(p, " \t\r\n")
	if len(p) == 0 || p[0] != ':' {
		return nil
	}
	return bytes.TrimLeft(p[1:], " \t\r\n")
}

// Output estimates: the p90 of the last outputs of a deployment's model.
const (
	outputSamples  = 50
	outputQuantile = 0.9
	// firstOutputEstimate is the estimate before a deployment has answered: it ages out of the
	// window like a sample.
	firstOutputEstimate = 1024
)

// outputStats learns what a deployment's model returns. Safe for concurrent use.
type outputStats struct {
	m    sync.Map // outputKey -> *outputRing
	size atomic.Int64
}

// maxOutputRings bounds the estimates kept: a wildcard route learns one per model name its
// clients send, and past this many it starts over rather than grow.
const maxOutputRings = 4096

type outputKey struct{ deployment, model string }

type outputRing struct {
	mu   sync.Mutex
	toks []int32 // up to outputSamples, oldest overwritten first
	next int
	est  atomic.Int64 // the current estimate, read without the lock
}

func (s *outputStats) ring(d *route.Deployment, model string) *outputRing {
	k := outputKey{d.ID, model}
	if r, ok := s.m.Load(k); ok {
		return r.(*outputRing)
	}
	r := &outputRing{toks: []int32{firstOutputEstimate}}
	r.est.Store(firstOutputEstimate)
	v, loaded := s.m.LoadOrStore(k, r)
	if !loaded && s.size.Add(1) > maxOutputRings {
		s.m.Clear()
		s.size.Store(0)
	}
	return v.(*outputRing)
}

// observe adds one answer's output tokens (per choice).
func (s *outputStats) observe(d *route.Deployment, model string, tokens int) {
	if d == nil || tokens < 0 {
		return
	}
	r := s.ring(d, model)
	r.mu.Lock()
	defer r.mu.Unlock()
	t := int32(min(tokens, 1<<30))
	if len(r.toks) < outputSamples {
		r.toks = append(r.toks, t)
	} else {
		r.toks[r.next] = t
		r.next = (r.next + 1) % outputSamples
	}
	sorted := slices.Clone(r.toks)
	slices.Sort(sorted)
	// The nearest-rank quantile: with few samples it is their largest, a cautious start.
	i := int(float64(len(sorted))*outputQuantile+0.999999) - 1
	r.est.Store(int64(sorted[max(i, 0)]))
}

// estimate is the output tokens expected of one choice of d's model, at most maxTokens (the
// request's max_tokens, 0 for none) and the model's max output.
func (s *outputStats) estimate(d *route.Deployment, model string, p pricing.Price, maxTokens int) int {
	est := int(s.ring(d, model).est.Load())
	if maxTokens > 0 {
		est = min(est, maxTokens)
	}
	if mo := maxOutput(p); mo > 0 {
		est = min(est, mo)
	}
	return est
}

func maxOutput(p pricing.Price) int {
	switch {
	case p.MaxOutputTokens != nil:
		return *p.MaxOutputTokens
	case p.MaxTokens != nil:
		return *p.MaxTokens
	}
	return 0
}

// estimate is what a request is expected to cost and use on one deployment.
type estimate struct {
	cost   float64
	tokens int64 // input + output, for tpm limits
}

// expected is the request's expected cost on deployment d serving model: its input once and n
// choices of the output estimate, at d's prices.
func (s *outputStats) expected(d *route.Deployment, model string, in, n, maxTokens int) estimate {
	p := priceFor(d, model)
	out := max(n, 1) * s.estimate(d, model, p, maxTokens)
	c, _ := pricing.Cost(p, pricing.Usage{PromptTokens: in, CompletionTokens: out})
	return estimate{cost: c, tokens: int64(in + out)}
}

// expectedInGroup is the largest expected cost over the deployments of group: the reservation
// made before the router has picked one (the pick then adjusts it).
func (s *outputStats) expectedInGroup(deps []*route.Deployment, group, model string, in, n, maxTokens int) estimate {
	var e estimate
	for _, d := range deps {
		if d.Group != group {
			continue
		}
		if x := s.expected(d, upstreamFor(d, model), in, n, maxTokens); x.cost > e.cost || x.tokens > e.tokens {
			e.cost, e.tokens = max(e.cost, x.cost), max(e.tokens, x.tokens)
		}
	}
	return e
}

// upstreamFor is the model a deployment is priced as before routing: its own, or the requested
// one for a wildcard.
func upstreamFor(d *route.Deployment, model string) string {
	if d.Model == "" || strings.Contains(d.Model, "*") {
		return model
	}
	return d.Model
}

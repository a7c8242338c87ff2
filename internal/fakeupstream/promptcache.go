package fakeupstream

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
)

// PromptCache counts a request's input tokens the way Anthropic's prompt cache bills them, so
// that tests can measure what breakpoints save. Set it on Native.Cache; nil replays the recorded
// usage figures instead.
//
// The model, from Anthropic's prompt-caching documentation (Bedrock's Converse cachePoint blocks
// behave the same for Claude):
//   - the prompt is its blocks in cache order: tools, then system, then each message's blocks;
//   - a breakpoint (cache_control on a block, or a cachePoint after it) closes a prefix; at most 4;
//   - a prefix is cached only if it holds at least the model's minimum of tokens;
//   - at each breakpoint the cache is looked up at that block and up to 20 blocks before it: the
//     longest prefix found is read (cache_read_input_tokens);
//   - the tokens after the read prefix up to the last cacheable breakpoint are written
//     (cache_creation_input_tokens), and every cacheable breakpoint's prefix is stored;
//   - the rest is input_tokens. The markers themselves are not part of what is cached.
//
// Tokens are counted as one per 4 bytes of each block's JSON, which is near enough to a real
// tokenizer for prices and is exact to reproduce. Entries do not expire: a test session is
// shorter than the 5-minute TTL.
type PromptCache struct {
	mu      sync.Mutex
	entries map[[32]byte]bool
	seen    []int // breakpoints per request, in arrival order
}

// NewPromptCache returns an empty cache.
func NewPromptCache() *PromptCache { return &PromptCache{entries: map[[32]byte]bool{}} }

// Breakpoints returns how many breakpoints each request carried, in arrival order.
func (c *PromptCache) Breakpoints() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int(nil), c.seen...)
}

// cacheUsage is one request's input, split as Anthropic reports it.
type cacheUsage struct{ input, write, read int }

// block is one prompt block: the bytes that identify it (without its marker) and whether a
// breakpoint closes the prefix at its end.
type block struct {
	key  []byte
	mark bool
}

// maxBreakpoints and lookback are Anthropic's documented limits.
const (
	maxBreakpoints = 4
	lookback       = 20
)

// minCacheable is the smallest prefix Anthropic caches for a model (its prompt-caching docs):
// 4096 tokens for Opus 4.5/4.6 and Haiku 4.5, 2048 for the Haiku 3 models, 1024 for the others.
func minCacheable(model string) int {
	switch m := strings.ToLower(model); {
	case strings.Contains(m, "opus-4-5"), strings.Contains(m, "opus-4-6"), strings.Contains(m, "haiku-4-5"):
		return 4096
	case strings.Contains(m, "haiku-3"), strings.Contains(m, "3-haiku"), strings.Contains(m, "3-5-haiku"):
		return 2048
	}
	return 1024
}

func tokens(b []byte) int { return (len(b) + 3) / 4 }

// count bills blocks and stores the prefixes they write. An error is a request Anthropic
// would refuse (too many breakpoints).
func (c *PromptCache) count(model string, blocks []block) (cacheUsage, error) {
	marks := 0
	for _, b := range blocks {
		if b.mark {
			marks++
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen = append(c.seen, marks)
	if marks > maxBreakpoints {
		return cacheUsage{}, fmt.Errorf("A maximum of %d blocks with cache_control may be provided. Found %d.", maxBreakpoints, marks)
	}
	// Running prefix hashes and token counts: prefix i ends after block i.
	hashes := make([][32]byte, len(blocks))
	cum := make([]int, len(blocks))
	h := sha256.New()
	fmt.Fprintf(h, "%s\n", model) // caches are per model
	total := 0
	for i, b := range blocks {
		fmt.Fprintf(h, "%d:", len(b.key))
		h.Write(b.key)
		copy(hashes[i][:], h.Sum(nil))
		total += tokens(b.key)
		cum[i] = total
	}
	minTokens := minCacheable(model)
	read, lastWrite := 0, -1
	for i, b := range blocks {
		if !b.mark {
			continue
		}
		for j := i; j >= 0 && j >= i-lookback; j-- {
			if c.entries[hashes[j]] && cum[j] > read {
				read = cum[j]
				break
			}
		}
		if cum[i] >= minTokens {
			lastWrite = i
		}
	}
	u := cacheUsage{read: read}
	if lastWrite >= 0 {
		u.write = max(cum[lastWrite]-read, 0)
		for i := 0; i <= lastWrite; i++ {
			if blocks[i].mark && cum[i] >= minTokens {
				c.entries[hashes[i]] = true
			}
		}
	}
	u.input = total - u.read - u.write
	return u, nil
}

// unmarked returns a block's JSON without its cache_control, keys sorted, so that moving a
// marker does not change what the prefix holds.
func unmarked(raw json.RawMessage, role string) []byte {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return append([]byte(role+":"), raw...)
	}
	delete(m, "cache_control")
	b, _ := json.Marshal(m)
	return append([]byte(role+":"), b...)
}

// anthropicBlocks lists a Messages request's blocks in cache order.
func anthropicBlocks(body []byte) ([]block, error) {
	var req struct {
		Tools    []json.RawMessage `json:"tools"`
		System   json.RawMessage   `json:"system"`
		Messages []struct {
			Role    string          `json:"role"`
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, err
	}
	var out []block
	add := func(raw json.RawMessage, role string) {
		var cc struct {
			CacheControl json.RawMessage `json:"cache_control"`
		}
		_ = json.Unmarshal(raw, &cc)
		out = append(out, block{key: unmarked(raw, role), mark: len(cc.CacheControl) > 0 && string(cc.CacheControl) != "null"})
	}
	for _, t := range req.Tools {
		add(t, "tool")
	}
	addContent := func(raw json.RawMessage, role string) {
		raw = bytes.TrimSpace(raw)
		if len(raw) > 0 && raw[0] == '"' {
			text, _ := json.Marshal(map[string]any{"type": "text", "text": json.RawMessage(raw)})
			add(text, role)
			return
		}
		var list []json.RawMessage
		_ = json.Unmarshal(raw, &list)
		for _, b := range list {
			add(b, role)
		}
	}
	addContent(req.System, "system")
	for _, m := range req.Messages {
		addContent(m.Content, m.Role)
	}
	return out, nil
}

// converseBlocks lists a Converse request's blocks in cache order; a cachePoint marks the block
// before it.
func converseBlocks(body []byte) ([]block, error) {
	var req struct {
		System     []json.RawMessage `json:"system"`
		ToolConfig *struct {
			Tools []json.RawMessage `json:"tools"`
		} `json:"toolConfig"`
		Messages []struct {
			Role    string            `json:"role"`
			Content []json.RawMessage `json:"content"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, err
	}
	var out []block
	add := func(list []json.RawMessage, role string) {
		for _, raw := range list {
			var cp struct {
				CachePoint json.RawMessage `json:"cachePoint"`
			}
			_ = json.Unmarshal(raw, &cp)
			if len(cp.CachePoint) > 0 {
				if n := len(out); n > 0 {
					out[n-1].mark = true
				}
				continue
			}
			out = append(out, block{key: unmarked(raw, role)})
		}
	}
	if req.ToolConfig != nil {
		add(req.ToolConfig.Tools, "tool")
	}
	add(req.System, "system")
	for _, m := range req.Messages {
		add(m.Content, m.Role)
	}
	return out, nil
}

func (c *PromptCache) anthropic(model string, body []byte) (cacheUsage, error) {
	blocks, err := anthropicBlocks(body)
	if err != nil {
		return cacheUsage{}, err
	}
	return c.count(model, blocks)
}

func (c *PromptCache) converse(model string, body []byte) (cacheUsage, error) {
	blocks, err := converseBlocks(body)
	if err != nil {
		return cacheUsage{}, err
	}
	return c.count(model, blocks)
}

// setAnthropic writes u into a Messages usage object; a nil u leaves the recorded figures.
func (u *cacheUsage) setAnthropic(usage map[string]any) {
	if u == nil || usage == nil {
		return
	}
	usage["input_tokens"], usage["cache_creation_input_tokens"], usage["cache_read_input_tokens"] = u.input, u.write, u.read
}

// setConverse writes u into a Converse usage object; a nil u leaves the recorded figures.
func (u *cacheUsage) setConverse(usage map[string]any) {
	if u == nil || usage == nil {
		return
	}
	out, _ := usage["outputTokens"].(float64)
	usage["inputTokens"], usage["cacheWriteInputTokens"], usage["cacheReadInputTokens"] = u.input, u.write, u.read
	usage["totalTokens"] = u.input + u.write + u.read + int(out)
}

package messages

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Figures for CountTokens. They are rough on purpose: only the upstream's tokenizer knows.
const (
	charsPerToken   = 4    // English prose and JSON average about four characters a token
	perMessage      = 3    // role and turn markers
	perImage        = 1600 // Anthropic's figure for an image at its largest size (~1.15 megapixels)
	minDocument     = 1600
	bytesPerDocTok  = 10 // a PDF's pages are billed as text plus an image each; by size is a guess
	maxCountedDepth = 4  // nesting (tool results, content documents) followed; real requests need 2
)

// CountTokens estimates the input tokens of an Anthropic Messages request, for
// /v1/messages/count_tokens on routes whose upstream has no such endpoint. It is an estimate,
// not a tokenizer: about four characters a token over all text, thinking, tool inputs and tool
// definitions (as JSON), 1600 tokens an image, and PDFs by size. Expect it to be off by 10-30%
// for prose and more for code or non-Latin scripts; clients use it to decide when to compact,
// not to bill. The error is a 400 *provider.Error for a body that is not a Messages request.
func CountTokens(body []byte) (int, error) {
	var in request
	if err := json.Unmarshal(body, &in); err != nil {
		return 0, badRequest("invalid JSON body: %v", err)
	}
	var c counter
	if !isNull(in.System) {
		bs, err := blocks(in.System, "system")
		if err != nil {
			return 0, err
		}
		c.blocks(bs, 0)
	}
	for i, m := range in.Messages {
		bs, err := blocks(m.Content, fmt.Sprintf("messages.%d.content", i))
		if err != nil {
			return 0, err
		}
		c.tokens += perMessage
		c.blocks(bs, 0)
	}
	for _, t := range in.Tools {
		c.chars += len(t)
	}
	return c.tokens + (c.chars+charsPerToken-1)/charsPerToken, nil
}

// CountTokensBody is the count_tokens response: {"input_tokens":n}.
func CountTokensBody(n int) []byte {
	return []byte(`{"input_tokens":` + strconv.Itoa(n) + `}`)
}

type counter struct {
	chars  int // characters of text, counted at charsPerToken
	tokens int // tokens counted directly
}

func (c *counter) blocks(bs []block, depth int) {
	for i := range bs {
		b := &bs[i]
		switch b.Type {
		case "text":
			if b.Text != nil {
				c.chars += len(*b.Text)
			}
		case "thinking":
			if b.Thinking != nil {
				c.chars += len(*b.Thinking)
			}
		case "tool_use", "server_tool_use":
			c.chars += len(b.Name) + len(b.Input)
		case "image":
			c.tokens += perImage
		case "document":
			c.document(b, depth)
		case "tool_result":
			if depth < maxCountedDepth && !isNull(b.Content) {
				if inner, err := blocks(b.Content, ""); err == nil {
					c.blocks(inner, depth+1)
				}
			}
		default:
			// Server tool results and newer blocks: their JSON is what the model reads, roughly.
			c.chars += len(b.Content)
		}
	}
}

func (c *counter) document(b *block, depth int) {
	s := b.Source
	if s == nil {
		return
	}
	c.chars += len(b.Title)
	switch s.Type {
	case "text":
		c.chars += len(s.Data)
	case "content":
		if inner, err := blocks(s.Content, ""); err == nil && depth < maxCountedDepth {
			c.blocks(inner, depth+1)
		}
	case "base64":
		size := len(s.Data) * 3 / 4 // base64 carries 3 bytes in 4 characters
		c.tokens += max(minDocument, size/bytesPerDocTok)
	default:
		c.tokens += minDocument
	}
}

package anthropic

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/clawgate/clawgate/proxy/internal/wire"
)

// content translates a message's content: a string, or an array of parts. Empty text is dropped
// (Anthropic rejects empty text blocks). thinkingOK allows thinking parts (assistant turns only).
func (t *translator) content(raw json.RawMessage, where string, thinkingOK bool) ([]Block, error) {
	raw = bytes.TrimSpace(raw)
	if wire.IsNull(raw) {
		return nil, nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, badRequest(where, "%s.content: %v", where, err)
		}
		if s == "" {
			return nil, nil
		}
		return []Block{{Type: "text", Text: s}}, nil
	}
	var parts []chatPart
	if err := json.Unmarshal(raw, &parts); err != nil {
		return nil, badRequest(where, "%s.content must be a string or an array of content parts: %v", where, err)
	}
	blocks := make([]Block, 0, len(parts))
	for j := range parts {
		p := &parts[j]
		pw := fmt.Sprintf("%s.content[%d]", where, j)
		b, ok, err := t.part(p, pw, thinkingOK)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if b.CacheControl, err = t.cacheControl(p.CacheControl, pw); err != nil {
			return nil, err
		}
		blocks = append(blocks, b)
	}
	return blocks, nil
}

// part translates one content part; ok is false for a part that carries nothing (empty text).
func (t *translator) part(p *chatPart, where string, thinkingOK bool) (b Block, ok bool, err error) {
	switch p.Type {
	case "text", "input_text", "refusal":
		if p.Text == "" {
			return Block{}, false, nil
		}
		return Block{Type: "text", Text: p.Text}, true, nil
	case "image_url":
		src, err := imageSource(p.ImageURL, where)
		if err != nil {
			return Block{}, false, err
		}
		return Block{Type: "image", Source: src}, true, nil
	case "file":
		src, err := fileSource(p.File, where)
		if err != nil {
			return Block{}, false, err
		}
		return Block{Type: "document", Source: src}, true, nil
	case "thinking", "redacted_thinking":
		if !thinkingOK {
			return Block{}, false, badRequest(where, "%s: %s parts belong in assistant messages", where, p.Type)
		}
		b, ok := thinkingBlock(p)
		return b, ok, nil
	case "":
		return Block{}, false, badRequest(where, "%s: content part has no type", where)
	}
	return Block{}, false, badRequest(where, "%s: content part type %q is not supported for Anthropic models", where, p.Type)
}

// imageSource reads image_url ({"url":...} or a bare string): a data URL becomes a base64 source,
// an http(s) URL a url source that Anthropic fetches itself.
func imageSource(raw json.RawMessage, where string) (*Source, error) {
	var url string
	if len(raw) > 0 && raw[0] == '"' {
		_ = json.Unmarshal(raw, &url)
	} else if !wire.IsNull(raw) {
		var o struct {
			URL string `json:"url"`
		}
		if err := json.Unmarshal(raw, &o); err != nil {
			return nil, badRequest(where, "%s.image_url must be an object with a url: %v", where, err)
		}
		url = o.URL
	}
	switch {
	case url == "":
		return nil, badRequest(where, "%s.image_url.url is empty", where)
	case strings.HasPrefix(url, "data:"):
		mt, data, err := wire.ParseDataURL(url)
		if err != nil {
			return nil, badRequest(where, "%s.image_url: %v", where, err)
		}
		if !strings.HasPrefix(mt, "image/") {
			return nil, badRequest(where, "%s.image_url: media type %q is not an image", where, mt)
		}
		return &Source{Type: "base64", MediaType: mt, Data: data}, nil
	case wire.HasPrefixFold(url, "https://"), wire.HasPrefixFold(url, "http://"):
		return &Source{Type: "url", URL: url}, nil
	}
	return nil, badRequest(where, "%s.image_url.url must be a data: URL or an http(s) URL", where)
}

// fileSource reads an OpenAI file part: only inline PDFs have an Anthropic equivalent here.
func fileSource(f *chatFile, where string) (*Source, error) {
	if f == nil || f.FileData == "" {
		return nil, badRequest(where, "%s: file parts need file.file_data (uploaded file ids are not supported)", where)
	}
	mt, data, err := wire.ParseDataURL(f.FileData)
	if err != nil {
		return nil, badRequest(where, "%s.file.file_data: %v", where, err)
	}
	if mt != "application/pdf" {
		return nil, badRequest(where, "%s: file type %q is not supported (PDF only)", where, mt)
	}
	return &Source{Type: "base64", MediaType: mt, Data: data}, nil
}

// thinkingBlock rebuilds an Anthropic thinking block echoed by the client. A thinking block
// without its signature is useless to Anthropic (it rejects it), so it is dropped.
func thinkingBlock(p *chatPart) (Block, bool) {
	switch p.Type {
	case "thinking":
		if p.Signature == "" {
			return Block{}, false
		}
		th := ""
		if p.Thinking != nil {
			th = *p.Thinking
		}
		return Block{Type: "thinking", Thinking: &th, Signature: p.Signature}, true
	case "redacted_thinking":
		if p.Data == "" {
			return Block{}, false
		}
		return Block{Type: "redacted_thinking", Data: p.Data}, true
	}
	return Block{}, false
}

package bedrock

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/clawgate/clawgate/proxy/internal/wire"
)

// contentKind says which content parts a message may hold.
type contentKind int

const (
	kindSystem    contentKind = iota // text
	kindUser                         // text, images, documents
	kindAssistant                    // text, reasoning
	kindTool                         // text, images
)

func (k contentKind) String() string {
	return [...]string{"system", "user", "assistant", "tool"}[k]
}

// content translates a message's content: a string, or an array of parts. Blank text is dropped
// (Bedrock rejects text blocks with nothing but whitespace). A part's cache_control becomes a
// cache point block right after the part's block.
func (t *translator) content(raw json.RawMessage, where string, kind contentKind) ([]Block, error) {
	raw = bytes.TrimSpace(raw)
	if wire.IsNull(raw) {
		return nil, nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, badRequest(where, "%s.content: %v", where, err)
		}
		if strings.TrimSpace(s) == "" {
			return nil, nil
		}
		return []Block{{Text: s}}, nil
	}
	var parts []chatPart
	if err := json.Unmarshal(raw, &parts); err != nil {
		return nil, badRequest(where, "%s.content must be a string or an array of content parts: %v", where, err)
	}
	blocks := make([]Block, 0, len(parts))
	for j := range parts {
		p := &parts[j]
		pw := fmt.Sprintf("%s.content[%d]", where, j)
		b, ok, err := t.part(p, pw, kind)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		blocks = append(blocks, b)
		if !wire.IsNull(p.CacheControl) {
			blocks = addCachePoint(blocks)
		}
	}
	return blocks, nil
}

// part translates one content part; ok is false for a part that carries nothing (blank text,
// reasoning without a signature).
func (t *translator) part(p *chatPart, where string, kind contentKind) (b Block, ok bool, err error) {
	switch p.Type {
	case "text", "input_text", "refusal":
		if strings.TrimSpace(p.Text) == "" {
			return Block{}, false, nil
		}
		return Block{Text: p.Text}, true, nil
	case "image_url":
		if kind != kindUser && kind != kindTool {
			break
		}
		img, err := image(p.ImageURL, where)
		if err != nil {
			return Block{}, false, err
		}
		return Block{Image: img}, true, nil
	case "file":
		if kind != kindUser {
			break
		}
		doc, err := t.document(p.File, where)
		if err != nil {
			return Block{}, false, err
		}
		return Block{Document: doc}, true, nil
	case "thinking", "redacted_thinking":
		if kind != kindAssistant {
			return Block{}, false, badRequest(where, "%s: %s parts belong in assistant messages", where, p.Type)
		}
		b, ok := reasoningBlock(p)
		return b, ok, nil
	case "":
		return Block{}, false, badRequest(where, "%s: content part has no type", where)
	default:
		return Block{}, false, badRequest(where, "%s: content part type %q is not supported for Bedrock models", where, p.Type)
	}
	return Block{}, false, badRequest(where, "%s: a %s message cannot hold %s parts", where, kind, p.Type)
}

// imageFormats maps image media types to Converse's image formats.
var imageFormats = map[string]string{
	"image/png":  "png",
	"image/jpeg": "jpeg",
	"image/jpg":  "jpeg",
	"image/gif":  "gif",
	"image/webp": "webp",
}

// image reads image_url ({"url":...} or a bare string). Converse takes image bytes only, and the
// gateway does not fetch URLs on a client's behalf (that would let any client make it download
// anything), so an http(s) URL is a 400 that says what to send instead.
func image(raw json.RawMessage, where string) (*Image, error) {
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
		mt, data, err := parseDataURL(url)
		if err != nil {
			return nil, badRequest(where, "%s.image_url: %v", where, err)
		}
		format, ok := imageFormats[mt]
		if !ok {
			return nil, badRequest(where, "%s.image_url: media type %q is not supported by Bedrock (png, jpeg, gif or webp)", where, mt)
		}
		return &Image{Format: format, Source: BlobSource{Bytes: data}}, nil
	case wire.HasPrefixFold(url, "https://"), wire.HasPrefixFold(url, "http://"):
		return nil, badRequest(where, "%s.image_url: Bedrock takes image bytes, not URLs; send the image inline as a data: URL (data:image/png;base64,...)", where)
	}
	return nil, badRequest(where, "%s.image_url.url must be a data: URL", where)
}

// documentFormats maps file media types to Converse's document formats.
var documentFormats = map[string]string{
	"application/pdf":          "pdf",
	"text/csv":                 "csv",
	"text/html":                "html",
	"text/plain":               "txt",
	"text/markdown":            "md",
	"application/msword":       "doc",
	"application/vnd.ms-excel": "xls",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":       "xlsx",
}

// document reads an OpenAI file part: only inline file_data has a Converse equivalent.
func (t *translator) document(f *chatFile, where string) (*Document, error) {
	if f == nil || f.FileData == "" {
		return nil, badRequest(where, "%s: file parts need file.file_data (uploaded file ids are not supported)", where)
	}
	mt, data, err := parseDataURL(f.FileData)
	if err != nil {
		return nil, badRequest(where, "%s.file.file_data: %v", where, err)
	}
	format, ok := documentFormats[mt]
	if !ok {
		return nil, badRequest(where, "%s: file type %q is not supported by Bedrock", where, mt)
	}
	t.documents++
	name := documentName(f.Filename)
	if name == "" {
		name = "document-" + strconv.Itoa(t.documents)
	}
	return &Document{Format: format, Name: name, Source: BlobSource{Bytes: data}}, nil
}

// documentName reduces a file name to what Bedrock allows in a document name: letters, digits,
// single spaces, hyphens, parentheses and square brackets. The extension goes (the format says
// it), and so does anything else, replaced by a hyphen.
func documentName(filename string) string {
	if i := strings.LastIndexByte(filename, '.'); i > 0 {
		filename = filename[:i]
	}
	var b strings.Builder
	space := false
	for _, r := range filename {
		switch {
		case r == ' ' || r == '\t':
			if !space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = true
			continue
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9',
			r == '-', r == '(', r == ')', r == '[', r == ']':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
		space = false
		if b.Len() >= 200 {
			break
		}
	}
	return strings.TrimSpace(b.String())
}

// parseDataURL splits data:<media type>;base64,<data> and checks the data, so that a bad payload
// is a clear 400 here rather than a vaguer one from Bedrock. Unpadded base64 is re-encoded
// padded, which is what AWS's JSON protocol reads for blobs.
func parseDataURL(u string) (mediaType, data string, err error) {
	mediaType, data, err = wire.SplitDataURL(u)
	if err != nil {
		return "", "", err
	}
	if _, err := base64.StdEncoding.DecodeString(data); err == nil {
		return mediaType, data, nil
	}
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(data, "="))
	if err != nil {
		return "", "", fmt.Errorf("data URL holds invalid base64: %w", err)
	}
	return mediaType, base64.StdEncoding.EncodeToString(raw), nil
}

// reasoningBlock rebuilds a reasoning block echoed by the client (LiteLLM's thinking_blocks
// shape). Reasoning without its signature cannot be verified by Claude, which rejects it, so it
// is dropped.
func reasoningBlock(p *chatPart) (Block, bool) {
	switch p.Type {
	case "thinking":
		if p.Signature == "" {
			return Block{}, false
		}
		th := ""
		if p.Thinking != nil {
			th = *p.Thinking
		}
		return Block{ReasoningContent: &ReasoningContent{ReasoningText: &ReasoningText{Text: th, Signature: p.Signature}}}, true
	case "redacted_thinking":
		if p.Data == "" {
			return Block{}, false
		}
		return Block{ReasoningContent: &ReasoningContent{RedactedContent: p.Data}}, true
	}
	return Block{}, false
}

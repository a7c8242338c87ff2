package gemini

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"path"
	"strings"

	"github.com/clawgate/clawgate/proxy/internal/wire"
)

// chatPart is one OpenAI content part. format is LiteLLM's way to give a URL's media type.
type chatPart struct {
	Type       string          `json:"type"`
	Text       string          `json:"text"`
	Refusal    string          `json:"refusal"`
	ImageURL   json.RawMessage `json:"image_url"`
	File       *chatFile       `json:"file"`
	InputAudio *struct {
		Data   string `json:"data"`
		Format string `json:"format"`
	} `json:"input_audio"`
}

type chatFile struct {
	FileData string `json:"file_data"`
	FileID   string `json:"file_id"`
	Format   string `json:"format"`
}

// content translates a message's content (a string or an array of parts) for a turn of role
// ("system", "user", "model" or "tool"). Empty text is dropped: Gemini rejects empty parts.
func (t *translator) content(raw json.RawMessage, where, role string) ([]Part, error) {
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
		return []Part{{Text: s}}, nil
	}
	var list []chatPart
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, badRequest(where, "%s.content must be a string or an array of content parts: %v", where, err)
	}
	parts := make([]Part, 0, len(list))
	for j := range list {
		pw := fmt.Sprintf("%s.content[%d]", where, j)
		p, ok, err := part(&list[j], pw, role)
		if err != nil {
			return nil, err
		}
		if ok {
			parts = append(parts, p)
		}
	}
	return parts, nil
}

// part translates one content part; ok is false for a part that carries nothing.
func part(p *chatPart, where, role string) (out Part, ok bool, err error) {
	if role == "system" && p.Type != "text" && p.Type != "input_text" && p.Type != "" {
		return Part{}, false, badRequest(where, "%s: a system message may hold only text, not %s", where, p.Type)
	}
	switch p.Type {
	case "text", "input_text":
		return Part{Text: p.Text}, p.Text != "", nil
	case "refusal":
		return Part{Text: p.Refusal}, p.Refusal != "", nil
	case "image_url":
		out, err := imagePart(p.ImageURL, where)
		return out, err == nil, err
	case "file":
		out, err := filePart(p.File, where)
		return out, err == nil, err
	case "input_audio":
		if p.InputAudio == nil || p.InputAudio.Data == "" {
			return Part{}, false, badRequest(where, "%s: input_audio needs data", where)
		}
		if _, err := base64.StdEncoding.DecodeString(p.InputAudio.Data); err != nil {
			return Part{}, false, badRequest(where, "%s.input_audio.data is not valid base64: %v", where, err)
		}
		format := strings.ToLower(p.InputAudio.Format)
		if format == "" {
			format = "wav"
		}
		return Part{InlineData: &Blob{MimeType: "audio/" + format, Data: p.InputAudio.Data}}, true, nil
	case "thinking", "redacted_thinking":
		if role == "model" {
			// Anthropic's signed thinking, echoed by a client that switched models: Gemini
			// cannot read it, and it is not Gemini's to verify.
			return Part{}, false, nil
		}
		return Part{}, false, badRequest(where, "%s: %s parts belong in assistant messages", where, p.Type)
	case "":
		return Part{}, false, badRequest(where, "%s: content part has no type", where)
	}
	return Part{}, false, badRequest(where, "%s: content part type %q is not supported for Gemini models", where, p.Type)
}

// imagePart reads image_url ({"url":...,"format":...} or a bare string): a data URL becomes
// inlineData, any other URL fileData that Gemini fetches itself (Files API and gs:// URIs, and
// public URLs where the model supports them).
func imagePart(raw json.RawMessage, where string) (Part, error) {
	var ref struct {
		URL    string `json:"url"`
		Format string `json:"format"`
	}
	if len(raw) > 0 && raw[0] == '"' {
		_ = json.Unmarshal(raw, &ref.URL)
	} else if !wire.IsNull(raw) {
		if err := json.Unmarshal(raw, &ref); err != nil {
			return Part{}, badRequest(where, "%s.image_url must be an object with a url: %v", where, err)
		}
	}
	return urlPart(ref.URL, ref.Format, where+".image_url")
}

// filePart reads an OpenAI file part: inline data, or a file id that is a URI Gemini can read.
func filePart(f *chatFile, where string) (Part, error) {
	switch {
	case f == nil || (f.FileData == "" && f.FileID == ""):
		return Part{}, badRequest(where, "%s: file parts need file.file_data or file.file_id", where)
	case f.FileData != "":
		return urlPart(f.FileData, f.Format, where+".file.file_data")
	case isRemote(f.FileID):
		return urlPart(f.FileID, f.Format, where+".file.file_id")
	}
	return Part{}, badRequest(where, "%s: file_id %q is not a URI Gemini can read (upload it with Gemini's Files API and send its URI)", where, f.FileID)
}

func urlPart(url, format, where string) (Part, error) {
	switch {
	case url == "":
		return Part{}, badRequest(where, "%s: url is empty", where)
	case strings.HasPrefix(url, "data:"):
		mt, data, err := wire.ParseDataURL(url)
		if err != nil {
			return Part{}, badRequest(where, "%s: %v", where, err)
		}
		return Part{InlineData: &Blob{MimeType: mt, Data: data}}, nil
	case isRemote(url):
		mt := strings.ToLower(format)
		if mt == "" {
			mt = guessMediaType(url)
		}
		return Part{FileData: &FileData{MimeType: mt, FileURI: url}}, nil
	}
	return Part{}, badRequest(where, "%s: url must be a data: URL, an http(s) URL or a gs:// URI", where)
}

func isRemote(u string) bool {
	return wire.HasPrefixFold(u, "https://") || wire.HasPrefixFold(u, "http://") || wire.HasPrefixFold(u, "gs://")
}

// mediaTypes covers what Gemini reads, so that the guess does not depend on the machine's
// mime.types as mime.TypeByExtension does.
var mediaTypes = map[string]string{
	".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp",
	".gif": "image/gif", ".heic": "image/heic", ".heif": "image/heif",
	".pdf": "application/pdf", ".txt": "text/plain",
	".mp3": "audio/mp3", ".wav": "audio/wav", ".flac": "audio/flac", ".ogg": "audio/ogg",
	".aac": "audio/aac", ".mp4": "video/mp4", ".mov": "video/mov", ".webm": "video/webm",
}

// guessMediaType names a URL's media type from its extension; "" when it cannot tell (Gemini
// then works it out, as it does for YouTube links).
func guessMediaType(url string) string {
	u := url
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	return mediaTypes[strings.ToLower(path.Ext(u))]
}

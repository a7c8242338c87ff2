package messages

import (
	"encoding/json"
	"strings"
)

// imageSource renders an image source as the URL OpenAI's image_url takes.
func imageSource(s *source, where string) (string, error) {
	if s == nil {
		return "", badRequest("%s.source: Field required", where)
	}
	switch s.Type {
	case "base64":
		if s.MediaType == "" || s.Data == "" {
			return "", badRequest("%s.source: a base64 source needs media_type and data", where)
		}
		return "data:" + s.MediaType + ";base64," + s.Data, nil
	case "url":
		if s.URL == "" {
			return "", badRequest("%s.source.url: Field required", where)
		}
		return s.URL, nil
	case "file":
		return "", badRequest("%s.source: Files API sources are not supported on this route; send the image as base64", where)
	}
	return "", badRequest("%s.source.type: %q is not one of base64, url", where, s.Type)
}

// document translates a document block as well as OpenAI allows: a base64 PDF becomes a file
// part, plain text and content sources become text. A PDF by URL has no OpenAI form.
func (t *translator) document(b *block, cc json.RawMessage, where string) (part, bool, error) {
	s := b.Source
	if s == nil {
		return part{}, false, badRequest("%s.source: Field required", where)
	}
	switch s.Type {
	case "base64":
		if s.MediaType != "application/pdf" || s.Data == "" {
			return part{}, false, badRequest("%s.source: base64 documents must be application/pdf with data", where)
		}
		name := b.Title
		if name == "" {
			name = "document.pdf"
		}
		return part{Type: "file", File: &filePart{Filename: name, FileData: "data:application/pdf;base64," + s.Data}, CacheControl: cc}, true, nil
	case "text":
		text := s.Data
		if b.Title != "" {
			text = b.Title + "\n\n" + text
		}
		if text == "" {
			return part{}, false, nil
		}
		return textPart(text, cc), true, nil
	case "content":
		inner, err := blocks(s.Content, where+".source.content")
		if err != nil {
			return part{}, false, err
		}
		var texts []string
		if b.Title != "" {
			texts = append(texts, b.Title)
		}
		for j, ib := range inner {
			if ib.Type != "text" {
				return part{}, false, badRequest("%s.source.content.%d: only text blocks are supported in a content document on this route", where, j)
			}
			if ib.Text != nil && *ib.Text != "" {
				texts = append(texts, *ib.Text)
			}
		}
		if len(texts) == 0 {
			return part{}, false, nil
		}
		return textPart(strings.Join(texts, "\n\n"), cc), true, nil
	case "url":
		return part{}, false, badRequest("%s.source: documents by URL are not supported on this route; send the PDF as base64", where)
	case "file":
		return part{}, false, badRequest("%s.source: Files API sources are not supported on this route; send the document as base64", where)
	}
	return part{}, false, badRequest("%s.source.type: %q is not one of base64, text, content", where, s.Type)
}

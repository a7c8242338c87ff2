// Package wire holds the OpenAI output pieces the native providers (anthropic, gemini, bedrock)
// all build the same way: JSON without HTML escaping, hand-appended JSON strings, and the
// chat.completion.chunk buffer their stream translators fill. It has no HTTP in it.
package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"unicode/utf8"

	"github.com/clawgate/clawgate/proxy/provider"
)

// BadGateway is a 502 api_error with a formatted message: what a provider returns when the
// upstream answered something it cannot use.
func BadGateway(format string, args ...any) *provider.Error {
	return &provider.Error{Status: http.StatusBadGateway, Type: "api_error", Message: fmt.Sprintf(format, args...)}
}

// Marshal is json.Marshal without HTML escaping, so "<" in a prompt stays "<" on the wire.
func Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// IsString reports whether raw is a JSON string literal.
func IsString(raw json.RawMessage) bool {
	return len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"'
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string (invalid UTF-8 becomes U+FFFD, as encoding/json does).
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

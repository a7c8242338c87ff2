package wire

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
)

// IsNull reports whether raw is absent or JSON null.
func IsNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// HasPrefixFold is strings.HasPrefix ignoring ASCII case.
func HasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// ToolArgs turns an OpenAI tool call's arguments (a JSON string holding an object, or, from
// lenient clients, the object itself) into the compact JSON object the native APIs want. Absent,
// null and empty arguments are {}.
func ToolArgs(raw json.RawMessage) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if IsNull(raw) {
		return json.RawMessage("{}"), nil
	}
	args := []byte(raw)
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		args = bytes.TrimSpace([]byte(s))
		if len(args) == 0 {
			return json.RawMessage("{}"), nil
		}
	}
	if !json.Valid(args) {
		return nil, fmt.Errorf("not valid JSON: %.80q", args)
	}
	if args[0] != '{' {
		return nil, fmt.Errorf("must be a JSON object, got %.40s", args)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, args); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// SplitDataURL splits data:<media type>;base64,<data>, accepting only base64 payloads. The
// data is not decoded; ParseDataURL also checks it.
func SplitDataURL(u string) (mediaType, data string, err error) {
	rest, ok := strings.CutPrefix(u, "data:")
	if !ok {
		return "", "", fmt.Errorf("not a data: URL")
	}
	meta, data, ok := strings.Cut(rest, ",")
	if !ok {
		return "", "", fmt.Errorf("data URL has no comma")
	}
	params := strings.Split(meta, ";")
	mediaType = strings.ToLower(strings.TrimSpace(params[0]))
	isBase64 := false
	for _, p := range params[1:] {
		if strings.EqualFold(strings.TrimSpace(p), "base64") {
			isBase64 = true
		}
	}
	if !isBase64 {
		return "", "", fmt.Errorf("data URL must be base64-encoded")
	}
	if mediaType == "" {
		return "", "", fmt.Errorf("data URL has no media type")
	}
	return mediaType, data, nil
}

// ParseDataURL is SplitDataURL with the data checked as padded base64, so that a bad payload is
// a clear 400 from the gateway rather than a vaguer one from upstream.
func ParseDataURL(u string) (mediaType, data string, err error) {
	mediaType, data, err = SplitDataURL(u)
	if err != nil {
		return "", "", err
	}
	if _, err := base64.StdEncoding.DecodeString(data); err != nil {
		return "", "", fmt.Errorf("data URL holds invalid base64: %w", err)
	}
	return mediaType, data, nil
}

package ledger

import (
	"bytes"
	"encoding/base64"
	"regexp"
)

// A stored body is JSON, so a secret in it may carry JSON escapes: "\/" for '/' (some encoders
// escape every slash) and "\"" or "\n" around it. b64 is one character of a base64-ish token,
// an escaped slash included.
const b64 = `(?:[A-Za-z0-9+=_\-]|\\?/)`

// redactRule is one shape of secret. When the pattern has a group named "s" only that group is
// replaced (the label before a value stays readable); keep, when set, must agree that the text is
// a secret.
type redactRule struct {
	re   *regexp.Regexp
	keep func(secret []byte) bool
}

var redactRules = []redactRule{
	// PEM private keys, to their END line, or to the end of the JSON string when the paste is cut.
	{re: regexp.MustCompile(`-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?:[^"]*?-----END [A-Z0-9 ]*PRIVATE KEY-----|[^"]*)`)},
	// The password of scheme://user:pass@host, slashes possibly escaped.
	{re: regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.\-]*:\\?/\\?/[^\s:/@"'\\]+:(?P<s>[^\s/@"'\\]+)@`)},
	// AWS secret access keys after their usual labels: aws_secret_access_key = ..., "SecretAccessKey": "...",
	// AWS_SECRET_ACCESS_KEY=...
	{re: regexp.MustCompile(`(?i)(?:aws_?secret_?access_?key|secret_?access_?key|aws_?secret_?key)(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?P<s>` + b64 + `{20,})`)},
	// An AWS key pair as tools print it: the access key id, then within a few separators the 40-character secret.
	{re: regexp.MustCompile(`(?:AKIA|ASIA)[0-9A-Z]{16}(?:[\s,;:|=]|\\[nrt"]|["'])+(?P<s>` + b64 + `{40})(?:[^A-Za-z0-9+/=]|$)`)},
	// Basic credentials: only when the token decodes to user:password, so "basic understanding" stays.
	{re: regexp.MustCompile(`(?i)\bbasic\s+(?P<s>(?:[A-Za-z0-9+=]|\\?/){8,})`), keep: basicCredentials},
	// Bearer tokens, base64 ones (+ / =) included.
	{re: regexp.MustCompile(`(?i:bearer)\s+(?P<s>` + b64 + `{16,})`)},
	// Keys recognisable by their prefix: OpenAI/Anthropic/LiteLLM sk-, AWS access key ids, Google
	// API keys, GitHub, Slack, Stripe secret and restricted keys, Hugging Face tokens.
	{re: regexp.MustCompile(`sk-[A-Za-z0-9_\-]{16,}|(?:AKIA|ASIA)[0-9A-Z]{16}|AIza[0-9A-Za-z_\-]{35}|gh[pousr]_[A-Za-z0-9]{30,}|` +
		`xox[abposr]-[A-Za-z0-9\-]{10,}|\b[sr]k_(?:live|test)_[A-Za-z0-9]{16,}|\bhf_[A-Za-z0-9]{30,}`)},
}

var redacted = []byte("[REDACTED]")

// redact returns a copy of a stored body with credentials replaced by "[REDACTED]" (nil stays nil).
func redact(b []byte) []byte {
	if b == nil {
		return nil
	}
	out := append([]byte(nil), b...)
	for _, r := range redactRules {
		out = r.apply(out)
	}
	return out
}

func (r redactRule) apply(b []byte) []byte {
	ms := r.re.FindAllSubmatchIndex(b, -1)
	if ms == nil {
		return b
	}
	g := r.re.SubexpIndex("s")
	var out []byte
	last := 0
	for _, m := range ms {
		lo, hi := m[0], m[1]
		if g > 0 && m[2*g] >= 0 {
			lo, hi = m[2*g], m[2*g+1]
		}
		if r.keep != nil && !r.keep(b[lo:hi]) {
			continue
		}
		out = append(append(out, b[last:lo]...), redacted...)
		last = hi
	}
	return append(out, b[last:]...)
}

// basicCredentials reports whether a Basic token is base64 of "user:password".
func basicCredentials(tok []byte) bool {
	tok = bytes.ReplaceAll(tok, []byte(`\/`), []byte("/"))
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding} {
		if d, err := enc.DecodeString(string(tok)); err == nil {
			return bytes.IndexByte(d, ':') > 0
		}
	}
	return false
}

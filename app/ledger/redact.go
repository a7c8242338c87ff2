package ledger

import "regexp"

// secretRE matches credentials people paste into prompts or that tools echo back: OpenAI/
// Anthropic/LiteLLM-style sk- keys, AWS access key ids, Google API keys, GitHub and Slack tokens,
// and bearer tokens.
var secretRE = regexp.MustCompile(`sk-[A-Za-z0-9_\-]{16,}|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_\-]{35}|gh[pousr]_[A-Za-z0-9]{30,}|xox[abposr]-[A-Za-z0-9\-]{10,}|(?i:bearer)\s+[A-Za-z0-9._\-]{16,}`)

// redact returns a copy of a stored body with credentials replaced by "[REDACTED]" (nil stays nil).
func redact(b []byte) []byte {
	if b == nil {
		return nil
	}
	return secretRE.ReplaceAll(b, []byte("[REDACTED]"))
}

package gemini

import (
	"crypto/rand"
	"encoding/hex"
	"regexp"
	"strconv"
	"strings"
)

// Gemini signs its reasoning: a functionCall part comes with a thoughtSignature that must be sent
// back with that call in later turns (Gemini 3 answers 400 without it). OpenAI's format has no
// place for it, so it rides in the tool call id, which every client echoes, as LiteLLM does:
// "call_<random>__thought__<signature>", and in provider_specific_fields.thought_signature.

// thoughtSep separates a tool call id from the signature appended to it.
const thoughtSep = "__thought__"

// skipSignature is the value Google documents for a function call Gemini did not produce (history
// from another model, or a client that lost the signature): it tells Gemini 3 not to validate.
const skipSignature = "skip_thought_signature_validator"

// newID returns a random id suffix; tests replace it to keep golden files stable.
var newID = func() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// toolCallID is the OpenAI id of a function call: Gemini's own id when it gave one, else a fresh
// one, with the signature appended.
func toolCallID(callID, sig string) string {
	id := callID
	if id == "" {
		id = "call_" + newID()
	}
	if sig != "" {
		id += thoughtSep + sig
	}
	return id
}

// splitToolCallID undoes toolCallID: the id without the signature, and the signature.
func splitToolCallID(id string) (base, sig string) {
	base, sig, _ = strings.Cut(id, thoughtSep)
	return base, sig
}

var versionRE = regexp.MustCompile(`gemini-(\d+)(?:\.(\d+))?`)

// family tells what a model id says about thinking: its Gemini major and minor version (0 when
// the id does not say, as with "gemini-flash-latest"), and whether it is a Flash model.
type family struct {
	major, minor int
	gemini       bool // a Gemini model at all (not Gemma, LearnLM, ...)
	flash, pro   bool
}

func modelFamily(model string) family {
	m := strings.ToLower(model)
	m = m[strings.LastIndex(m, "/")+1:] // "models/gemini-2.5-pro" and "gemini/gemini-2.5-pro"
	f := family{gemini: strings.HasPrefix(m, "gemini"), flash: strings.Contains(m, "flash"), pro: strings.Contains(m, "-pro")}
	if sm := versionRE.FindStringSubmatch(m); sm != nil {
		f.major, _ = strconv.Atoi(sm[1])
		if sm[2] != "" {
			f.minor, _ = strconv.Atoi(sm[2])
		}
	}
	return f
}

// signsCalls reports whether the model rejects function calls sent back without a signature.
func (f family) signsCalls() bool { return f.major >= 3 }

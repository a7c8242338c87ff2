package route

import (
	"cmp"
	"slices"
	"strings"
)

// InferProvider guesses the provider of a bare model name ("gpt-4o" -> "openai"), the way LiteLLM
// resolves well-known names without a prefix. It knows only the families whose names are
// unambiguous; anything else must be written as provider/model.
func InferProvider(model string) (string, bool) {
	switch {
	case strings.HasPrefix(model, "gpt-"), strings.HasPrefix(model, "chatgpt-"),
		strings.HasPrefix(model, "o1"), strings.HasPrefix(model, "o3"), strings.HasPrefix(model, "o4"),
		strings.HasPrefix(model, "text-embedding-"):
		return "openai", true
	case strings.HasPrefix(model, "claude-"):
		return "anthropic", true
	case strings.HasPrefix(model, "gemini-"):
		return "gemini", true
	}
	return "", false
}

// splitModel splits litellm_params.model into provider and upstream model id. A bare name gets its
// provider inferred; ok is false when that fails.
func splitModel(s string) (providerName, model string, ok bool) {
	if p, m, found := strings.Cut(s, "/"); found {
		return p, m, true
	}
	p, ok := InferProvider(s)
	return p, s, ok
}

// pattern is a compiled wildcard model_name. LiteLLM compiles re.escape(name) with each `*` as
// `(.*)`; a glob matcher with the same greedy captures avoids the regexp engine on the hot path.
type pattern struct {
	// lits are the literal pieces around the stars: len(lits) == stars+1.
	lits  []string
	stars int
}

func isPattern(name string) bool { return strings.IndexByte(name, '*') >= 0 }

func compilePattern(name string) pattern {
	lits := strings.Split(name, "*")
	return pattern{lits: lits, stars: len(lits) - 1}
}

// sortPatterns orders wildcard groups the way LiteLLM tries them: longer patterns first, then
// fewer stars (the more literal one), then config order.
func sortPatterns(gs []*group) {
	slices.SortStableFunc(gs, func(a, b *group) int {
		if c := cmp.Compare(len(b.name), len(a.name)); c != 0 {
			return c
		}
		return cmp.Compare(a.pat.stars, b.pat.stars)
	})
}

// match reports whether s matches the whole pattern and appends one capture per star to caps.
// Captures are greedy left to right, as Python's re gives them for `(.*)`.
func (p *pattern) match(s string, caps []string) ([]string, bool) {
	// `.` does not match a newline in Python's re; keep that so odd names fail the same way.
	if strings.IndexByte(s, '\n') >= 0 {
		return caps, false
	}
	first, last := p.lits[0], p.lits[p.stars]
	if len(s) < len(first)+len(last) || !strings.HasPrefix(s, first) || !strings.HasSuffix(s, last) {
		return caps, false
	}
	return matchStars(s[len(first):len(s)-len(last)], p.lits[1:p.stars], caps)
}

// matchStars matches text against `*` lits[0] `*` lits[1] ... `*`, trying the longest capture for
// each star first and backtracking, which is what a greedy regexp does.
func matchStars(text string, lits []string, caps []string) ([]string, bool) {
	if len(lits) == 0 {
		return append(caps, text), true
	}
	lit := lits[0]
	for end := strings.LastIndex(text, lit); end >= 0; {
		if out, ok := matchStars(text[end+len(lit):], lits[1:], append(caps, text[:end])); ok {
			return out, true
		}
		if end == 0 {
			break
		}
		// The next candidate is the last occurrence that starts before end.
		end = strings.LastIndex(text[:end+len(lit)-1], lit)
	}
	return caps, false
}

// upstreamModel is the model id sent upstream for deployment d when the request matched subject
// with the given captures (none for an exact group).
func upstreamModel(d *Deployment, subject string, caps []string) string {
	stars := strings.Count(d.Model, "*")
	var out string
	switch {
	case stars == 0:
		return d.Model
	case len(caps) > stars:
		// LiteLLM sends the raw request here; drop its provider prefix, the deployment has its own.
		if _, rest, ok := strings.Cut(subject, "/"); ok {
			return rest
		}
		return subject
	case len(caps) < stars:
		// An exact group whose deployment says "*" (model_name: gpt-4o, model: openai/*) means
		// "send what was asked"; anything else has nothing sensible to put in the stars.
		if d.Model != "*" {
			return d.Model
		}
		out = subject
	case stars == 1 && d.Model == "*":
		out = caps[0] // the common catch-all: no new string
	default:
		var b strings.Builder
		b.Grow(len(d.Model) + len(subject))
		rest := d.Model
		for _, c := range caps {
			i := strings.IndexByte(rest, '*')
			b.WriteString(rest[:i])
			b.WriteString(c)
			rest = rest[i+1:]
		}
		b.WriteString(rest)
		out = b.String()
	}
	// A catch-all `*` served by "openai/*" would otherwise send "openai/gpt-4o" to OpenAI.
	if d.ProviderName != "" && len(out) > len(d.ProviderName) && out[len(d.ProviderName)] == '/' &&
		strings.HasPrefix(out, d.ProviderName) {
		return out[len(d.ProviderName)+1:]
	}
	return out
}

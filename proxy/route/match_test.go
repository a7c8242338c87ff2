package route

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestInferProvider(t *testing.T) {
	tests := []struct {
		model, want string
		ok          bool
	}{
		{"gpt-4o", "openai", true},
		{"gpt-4o-mini", "openai", true},
		{"chatgpt-4o-latest", "openai", true},
		{"o1", "openai", true},
		{"o1-mini", "openai", true},
		{"o3-mini", "openai", true},
		{"o4-mini", "openai", true},
		{"text-embedding-3-small", "openai", true},
		{"claude-3-haiku-20240307", "anthropic", true},
		{"claude-sonnet-4-5", "anthropic", true},
		{"gemini-2.0-flash", "gemini", true},
		{"mistral-large", "", false},
		{"llama3", "", false},
		{"", "", false},
		{"*", "", false},
		{"GPT-4o", "", false}, // provider model ids are case-sensitive; do not guess
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			got, ok := InferProvider(tt.model)
			if got != tt.want || ok != tt.ok {
				t.Errorf("InferProvider(%q) = %q, %v; want %q, %v", tt.model, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestPatternMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		caps       []string // nil = no match
	}{
		{"openai/*", "openai/gpt-4o", []string{"gpt-4o"}},
		{"openai/*", "openai/", []string{""}},
		{"openai/*", "anthropic/claude", nil},
		{"openai/*", "xopenai/gpt-4o", nil},
		{"*", "gpt-4o", []string{"gpt-4o"}},
		{"*", "", []string{""}},
		{"llmengine/*", "llmengine/foo", []string{"foo"}},
		{"gpt-4*-mini", "gpt-4o-mini", []string{"o"}},
		{"gpt-4*-mini", "gpt-4o-mini-2024", nil}, // anchored at the end too
		{"a*b*c", "axbybzc", []string{"xby", "z"}},
		{"a*b*c", "abc", []string{"", ""}},
		{"a**b", "a12b", []string{"12", ""}},
		{"x*x", "x", nil},
		{"x*x", "xx", []string{""}},
		{"a.b*", "axb1", nil}, // the dot is literal
		{"a.b*", "a.b1", []string{"1"}},
		{"*/*", "openrouter/openai/gpt-4o", []string{"openrouter/openai", "gpt-4o"}},
		{"*", "a\nb", nil},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+"|"+tt.s, func(t *testing.T) {
			p := compilePattern(tt.pattern)
			got, ok := p.match(tt.s, nil)
			if ok != (tt.caps != nil) || (ok && !slices.Equal(got, tt.caps)) {
				t.Errorf("match(%q, %q) = %q, %v; want %q", tt.pattern, tt.s, got, ok, tt.caps)
			}
		})
	}
}

// TestPatternMatchAgreesWithRegexp checks the glob matcher against the regexp LiteLLM builds
// (escaped pattern, `*` -> `(.*)`, full match) over every short pattern and subject.
func TestPatternMatchAgreesWithRegexp(t *testing.T) {
	words := func(alphabet string, maxLen int) []string {
		out := []string{""}
		prev := []string{""}
		for n := 1; n <= maxLen; n++ {
			var next []string
			for _, w := range prev {
				for _, c := range alphabet {
					next = append(next, w+string(c))
				}
			}
			out = append(out, next...)
			prev = next
		}
		return out
	}
	subjects := words("ab/", 5)
	checked := 0
	for _, pat := range words("ab*.", 5) {
		if !strings.Contains(pat, "*") {
			continue
		}
		re := regexp.MustCompile("^" + strings.ReplaceAll(regexp.QuoteMeta(pat), `\*`, "(.*)") + "$")
		p := compilePattern(pat)
		for _, s := range subjects {
			want := re.FindStringSubmatch(s)
			got, ok := p.match(s, nil)
			if ok != (want != nil) || (ok && !slices.Equal(got, want[1:])) {
				t.Fatalf("pattern %q on %q: got %q, %v; regexp gives %q", pat, s, got, ok, want)
			}
			checked++
		}
	}
	if checked < 100000 {
		t.Fatalf("only %d cases checked", checked)
	}
}

func TestSortPatterns(t *testing.T) {
	var gs []*group
	for _, n := range []string{"*", "a*", "openai/*", "a*b*", "ab*c", "zz*b"} {
		gs = append(gs, &group{name: n, pat: compilePattern(n)})
	}
	sortPatterns(gs)
	var got []string
	for _, g := range gs {
		got = append(got, g.name)
	}
	want := []string{"openai/*", "ab*c", "zz*b", "a*b*", "a*", "*"}
	if !slices.Equal(got, want) {
		t.Errorf("order = %q, want %q", got, want)
	}
}

func TestUpstreamModel(t *testing.T) {
	tests := []struct {
		name              string
		group, litellm    string
		request, upstream string
	}{
		{"provider wildcard", "openai/*", "openai/*", "openai/gpt-4o", "gpt-4o"},
		{"catch-all bare", "*", "*", "gpt-4o", "gpt-4o"},
		{"catch-all keeps foreign prefix", "*", "*", "anthropic/claude-3", "anthropic/claude-3"},
		{"catch-all on one provider drops its prefix", "*", "openai/*", "openai/gpt-4o", "gpt-4o"},
		{"alias prefix", "llmengine/*", "openai/*", "llmengine/foo", "foo"},
		{"fixed model behind a wildcard", "*", "openai/gpt-4o-mini", "anything", "gpt-4o-mini"},
		{"two stars", "*-*", "openai/*-x-*", "a-b", "a-x-b"},
		{"star inside a name", "gpt-4o-*", "azure/gpt-4o-*", "gpt-4o-mini", "gpt-4o-mini"},
		{"more captures than stars", "*/*", "openai/*", "openrouter/openai/gpt-4o", "openai/gpt-4o"},
		{"exact group with a star model", "gpt-4o", "openai/*", "gpt-4o", "gpt-4o"},
		{"exact group", "gpt-4o", "openai/gpt-4o-2024-08-06", "gpt-4o", "gpt-4o-2024-08-06"},
		{"bare name via inferred provider", "anthropic/*", "anthropic/*", "claude-3-haiku", "claude-3-haiku"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New([]*Deployment{mkDep("d", tt.group, tt.litellm, nil)}, Settings{})
			var buf [4]string
			g, subject, caps := r.resolve(tt.request, buf[:0])
			if g == nil {
				t.Fatalf("%q does not resolve", tt.request)
			}
			if got := upstreamModel(g.members[0].d, subject, caps); got != tt.upstream {
				t.Errorf("upstream = %q, want %q", got, tt.upstream)
			}
		})
	}
}

func TestResolvePrecedence(t *testing.T) {
	deps := []*Deployment{
		mkDep("exact", "gpt-4o", "openai/gpt-4o-2024-08-06", nil),
		mkDep("oa", "openai/*", "openai/*", nil),
		mkDep("an", "anthropic/*", "anthropic/*", nil),
		mkDep("az", "gpt-4o-*", "azure/gpt-4o-*", nil),
		mkDep("all", "*", "*", nil),
	}
	r := New(deps, Settings{})
	tests := []struct {
		request, group, upstream string
	}{
		{"gpt-4o", "gpt-4o", "gpt-4o-2024-08-06"},           // exact beats every pattern
		{"gpt-4o-mini", "gpt-4o-*", "gpt-4o-mini"},          // a pattern that takes the name as typed beats inferred "openai/*"
		{"openai/gpt-4o", "openai/*", "gpt-4o"},             // not the exact gpt-4o
		{"claude-3-haiku", "anthropic/*", "claude-3-haiku"}, // inferred provider, beats "*"
		{"anthropic/claude-3", "anthropic/*", "claude-3"},
		{"gpt-5", "openai/*", "gpt-5"},          // inferred provider
		{"mistral-large", "*", "mistral-large"}, // nothing inferred: the catch-all
		{"groq/llama3", "*", "groq/llama3"},
	}
	for _, tt := range tests {
		t.Run(tt.request, func(t *testing.T) {
			g, ok := r.Lookup(tt.request)
			if !ok || g != tt.group {
				t.Fatalf("Lookup(%q) = %q, %v; want %q", tt.request, g, ok, tt.group)
			}
			res, err := r.Do(t.Context(), tt.request, func(_ context.Context, d *Deployment, up string) error { return nil })
			if err != nil {
				t.Fatal(err)
			}
			if res.Group != tt.group || res.RequestedGroup != tt.group || res.UpstreamModel != tt.upstream {
				t.Errorf("Do(%q) = group %q/%q upstream %q; want %q, %q", tt.request, res.RequestedGroup, res.Group, res.UpstreamModel, tt.group, tt.upstream)
			}
		})
	}

	t.Run("no catch-all", func(t *testing.T) {
		r := New(deps[:4], Settings{})
		for _, m := range []string{"mistral-large", "groq/llama3", "", "llama3"} {
			if g, ok := r.Lookup(m); ok {
				t.Errorf("Lookup(%q) = %q, want no group", m, g)
			}
		}
	})
}

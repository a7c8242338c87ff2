package openclaw

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// tree writes files (name → content; "openclaw.json" is the main config) into a temp folder and
// reads them as a Tree.
func tree(t *testing.T, files map[string]string) (*Tree, string) {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o700)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	main := filepath.Join(dir, "openclaw.json")
	raw, _ := os.ReadFile(main)
	d, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTree(main, d)
	if err != nil {
		t.Fatal(err)
	}
	return tr, dir
}

func TestAgentsAndUseAgents(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		// agents before the switch: "id=model" with a "*" when pinned, and the file holding it
		before []string
		// what each file holds after `use x --agents all` (substrings), and what it must not
		after map[string][]string
		gone  map[string][]string
	}{
		{
			name:   "no agents: the implicit main agent",
			files:  map[string]string{"openclaw.json": `{agents: {defaults: {model: "openai/gpt-4o"}}}`},
			before: []string{"main=openai/gpt-4o"},
			after:  map[string][]string{"openclaw.json": {`model: "litellm/x"`}},
		},
		{
			name: "entries: one pinned (string), one on the default",
			files: map[string]string{"openclaw.json": `{
  agents: {
    defaults: { model: { primary: "litellm/a" } },
    entries: {
      main: { workspace: "~" },
      coder: { model: "anthropic/claude-opus-4-6", workspace: "~/c" }, // pinned
    },
  },
}`},
			before: []string{"coder=anthropic/claude-opus-4-6*openclaw.json", "main=litellm/a"},
			after:  map[string][]string{"openclaw.json": {`coder: { model: "litellm/x", workspace: "~/c" }, // pinned`, `primary: "litellm/x"`}},
		},
		{
			name: "object form keeps its fallbacks; an agent allowlist gets litellm/*",
			files: map[string]string{"openclaw.json": `{agents: {entries: {solo: {
  model: { primary: "openai/gpt-4o", fallbacks: ["openai/gpt-4o-mini"] },
  modelPolicy: { allow: ["openai/*"] },
}}}}`},
			before: []string{"solo=openai/gpt-4o*openclaw.json"},
			after:  map[string][]string{"openclaw.json": {`primary: "litellm/x", fallbacks: ["openai/gpt-4o-mini"]`, `allow: ["openai/*", "litellm/*"]`}},
		},
		{
			name:   "the legacy agents.list",
			files:  map[string]string{"openclaw.json": `{agents: {list: [{id: "ops", model: "google/gemini-2.5-pro"}, {id: "plain"}]}}`},
			before: []string{"ops=google/gemini-2.5-pro*openclaw.json", "plain="},
			after:  map[string][]string{"openclaw.json": {`{id: "ops", model: "litellm/x"}`}},
		},
		{
			name: "an agent in a single-file include is switched in that file",
			files: map[string]string{
				"openclaw.json": `{agents: {defaults: {model: "litellm/a"}, entries: {$include: "./agents/entries.json5"}}}`,
				"agents/entries.json5": `// my agents
{ writer: { model: "anthropic/claude-sonnet-4-5" } }`,
			},
			before: []string{"writer=anthropic/claude-sonnet-4-5*agents/entries.json5"},
			after:  map[string][]string{"agents/entries.json5": {"// my agents", `writer: { model: "litellm/x" }`}, "openclaw.json": {`model: "litellm/x"`}},
			gone:   map[string][]string{"openclaw.json": {"writer"}},
		},
		{
			name: "several includes: the last that sets it holds it; a sibling beats them",
			files: map[string]string{
				"openclaw.json": `{agents: {$include: ["a.json5", "b.json5"], entries: {c: {model: "openai/o3"}}}}`,
				"a.json5":       `{entries: {a: {model: "openai/a"}, b: {model: "openai/old-b"}}}`,
				"b.json5":       `{entries: {b: {model: "openai/b"}}}`,
			},
			before: []string{"a=openai/a*a.json5", "b=openai/b*b.json5", "c=openai/o3*openclaw.json"},
			after: map[string][]string{
				"a.json5":       {`a: {model: "litellm/x"}`, `b: {model: "openai/old-b"}`},
				"b.json5":       {`b: {model: "litellm/x"}`},
				"openclaw.json": {`c: {model: "litellm/x"}`},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, dir := tree(t, tc.files)
			var got []string
			for _, a := range Agents(tr) {
				s := a.ID + "=" + a.Model
				if a.Pinned {
					rel, _ := filepath.Rel(dir, a.File)
					s += "*" + rel
				}
				got = append(got, s)
			}
			if !reflect.DeepEqual(got, tc.before) {
				t.Errorf("Agents = %q, want %q", got, tc.before)
			}

			// Default scope: the pinned agents are named, nothing of theirs changes.
			tr2, _ := tree(t, tc.files)
			lines, kept, err := UseAgents(tr2, "x", AgentsDefault)
			if err != nil {
				t.Fatal(err)
			}
			pinned := 0
			for _, b := range tc.before {
				if strings.Contains(b, "*") {
					pinned++
				}
			}
			if len(kept) != pinned || strings.Count(strings.Join(lines, "\n"), "keeps its own model") != pinned {
				t.Errorf("default scope: kept %v, lines %q; want %d pinned agents named", kept, lines, pinned)
			}

			lines, kept, err = UseAgents(tr, "x", AgentsAll)
			if err != nil {
				t.Fatal(err)
			}
			if len(kept) != 0 {
				t.Errorf("all agents: kept %+v (%q)", kept, lines)
			}
			if _, err := Write(tr.Path, []byte(tc.files["openclaw.json"]), tr.Doc, ""); err != nil {
				t.Fatal(err)
			}
			if _, err := tr.Write(""); err != nil {
				t.Fatal(err)
			}
			for name, wants := range tc.after {
				b, _ := os.ReadFile(filepath.Join(dir, name))
				for _, w := range wants {
					if !strings.Contains(string(b), w) {
						t.Errorf("%s lacks %s:\n%s", name, w, b)
					}
				}
			}
			for name, bad := range tc.gone {
				b, _ := os.ReadFile(filepath.Join(dir, name))
				for _, w := range bad {
					if strings.Contains(string(b), w) {
						t.Errorf("%s has %s:\n%s", name, w, b)
					}
				}
			}
			// Read back from disk: every agent is on litellm/x.
			raw, _ := os.ReadFile(tr.Path)
			d, _ := Parse(raw)
			again, err := NewTree(tr.Path, d)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range Agents(again) {
				if a.Model != "litellm/x" {
					t.Errorf("after the switch agent %s uses %s", a.ID, a.Model)
				}
			}
		})
	}
}

func TestUseAllowlistOnce(t *testing.T) {
	d := mustParse(t, `{agents: {defaults: {modelPolicy: {allow: ["openai/gpt-4o"]}}}}`)
	for _, m := range []string{"a", "b", "c", "a"} {
		if _, err := Use(d, m); err != nil {
			t.Fatal(err)
		}
	}
	if got := Inspect(d, "").Allow; !reflect.DeepEqual(got, []string{"openai/gpt-4o", "litellm/*"}) {
		t.Errorf("allow after four switches = %q", got)
	}
	// Once OpenClaw migrated its legacy allowlist, agents.defaults.models is aliases only.
	d = mustParse(t, `{meta: {migrations: {modelPolicyAllowlist: true}}, agents: {defaults: {models: {"openai/gpt-4o": {}}}}}`)
	if _, err := Use(d, "a"); err != nil {
		t.Fatal(err)
	}
	if v, _ := d.Get([]string{"agents", "defaults", "models"}); len(v.(map[string]any)) != 1 {
		t.Errorf("a migrated config's agents.defaults.models grew: %v", v)
	}
}

func TestParseAgentScope(t *testing.T) {
	for in, want := range map[string]AgentScope{"": AgentsDefault, "default": AgentsDefault, "all": AgentsAll} {
		if got, err := ParseAgentScope(in); err != nil || got != want {
			t.Errorf("ParseAgentScope(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseAgentScope("some"); err == nil {
		t.Error("ParseAgentScope(some): no error")
	}
}

func TestOwner(t *testing.T) {
	tr, dir := tree(t, map[string]string{
		"openclaw.json": `{agents: {$include: ["a.json5", "b.json5"], defaults: {model: "x"}}, gateway: {port: 1}}`,
		"a.json5":       `{entries: {w: {model: "m", list: [1, 2]}}, defaults: {workspace: "~"}}`,
		"b.json5":       `{entries: {w: {list: [3]}}}`,
	})
	for _, tc := range []struct {
		path, file, inner string
	}{
		{"gateway.port", "openclaw.json", "gateway.port"},
		{"agents.defaults.model", "openclaw.json", "agents.defaults.model"},
		{"agents.defaults.workspace", "a.json5", "defaults.workspace"},
		{"agents.entries.w.model", "a.json5", "entries.w.model"},
		// An array is wholly the last layer's.
		{"agents.entries.w.list.0", "b.json5", "entries.w.list.0"},
		// Not set anywhere yet: where its nearest parent's winning layer is.
		{"agents.entries.w.params.x", "b.json5", "entries.w.params.x"},
		{"agents.entries.v.model", "b.json5", "entries.v.model"},
		{"tools.profile", "openclaw.json", "tools.profile"},
	} {
		file, _, inner := tr.Owner(strings.Split(tc.path, "."))
		if file != filepath.Join(dir, tc.file) || strings.Join(inner, ".") != tc.inner {
			t.Errorf("Owner(%s) = %s %s, want %s %s", tc.path, file, strings.Join(inner, "."), tc.file, tc.inner)
		}
	}
}

package promptcache

import (
	"bytes"
	"encoding/json"
	"flag"
	"path/filepath"
	"testing"

	"github.com/clawgate/clawgate/proxy/provider/anthropic"
	"github.com/clawgate/clawgate/proxy/provider/bedrock"
	"github.com/clawgate/clawgate/proxy/provider/internal/testkit"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/ (then read the diff by eye)")

func idx(n int) *int { return &n }

var (
	systemPoint = Point{Location: "message", Role: "system", Control: ephemeral}
	userPoint   = Point{Location: "message", Role: "user", Control: ephemeral}
)

// TestApply checks where breakpoints land, against golden files read by eye: each golden file is
// the request the Anthropic or Bedrock translator receives.
func TestApply(t *testing.T) {
	cases := []struct {
		name, in string
		plan     Plan
		added    int // 0: the body must come back byte for byte
	}{
		{"first_turn", "first_turn", Plan{}, 3},                               // system, last user turn, last tool
		{"tool_loop", "tool_loop", Plan{}, 4},                                 // ... and the end of the previous call
		{"client_system", "client_system", Plan{}, 3},                         // the client's system mark stands
		{"client_three", "client_three", Plan{}, 1},                           // one slot left: the last turn
		{"client_parts", "client_parts", Plan{}, 1},                           // three marked parts: only the system prompt
		{"client_full", "client_full", Plan{}, 0},                             // four client marks: nothing added
		{"plain_user", "plain_user", Plan{}, 1},                               // no system, no tools
		{"long_chat", "long_chat", Plan{}, 4},                                 // default on a chat without tool calls
		{"off", "first_turn", Plan{Off: true}, 0},                             // prompt_caching: false
		{"points_system", "long_chat", Plan{Points: []Point{systemPoint}}, 1}, // points replace the default
		{"points_user", "long_chat", Plan{Points: []Point{userPoint}}, 4},     // five user turns: the latest four
		{"points_system_user", "long_chat", Plan{Points: []Point{userPoint, systemPoint}}, 4},
		{"points_index", "long_chat", Plan{Points: []Point{{Location: "message", Index: idx(-2), Control: json.RawMessage(`{"type":"ephemeral","ttl":"1h"}`)}}}, 1},
		{"points_out_of_range", "long_chat", Plan{Points: []Point{{Location: "message", Index: idx(10), Control: ephemeral}}}, 0},
		{"points_tools", "first_turn", Plan{Points: []Point{{Location: "tool_config", Control: ephemeral}}}, 1},
		{"points_marked_role", "client_three", Plan{Points: []Point{systemPoint}}, 0}, // the client marked the system already
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := testkit.ReadFile(t, filepath.Join("testdata", c.in+".json"))
			got, added := Apply(in, c.plan)
			if added != c.added {
				t.Errorf("added %d breakpoints, want %d", added, c.added)
			}
			if c.added == 0 {
				if !bytes.Equal(got, in) {
					t.Errorf("body changed although nothing was added:\n%s", got)
				}
				return
			}
			testkit.Golden(t, filepath.Join("testdata", "out", c.name+".json"), testkit.Indent(t, got), *update)
			var before request
			before.decode(in)
			checkTranslated(t, got, before.existing()+added)
		})
	}
}

// checkTranslated translates body for Anthropic and for Bedrock and checks that each carries
// exactly want breakpoints, within the limit.
func checkTranslated(t *testing.T, body []byte, want int) {
	t.Helper()
	if want > MaxBreakpoints {
		t.Fatalf("%d breakpoints, over Anthropic's limit of %d", want, MaxBreakpoints)
	}
	mr, err := anthropic.FromChat(body, "claude-sonnet-4-5", 0)
	if err != nil {
		t.Fatalf("anthropic.FromChat: %v", err)
	}
	b, _ := json.Marshal(mr)
	if n := bytes.Count(b, []byte(`"cache_control"`)); n != want {
		t.Errorf("Anthropic request has %d cache_control blocks, want %d:\n%s", n, want, b)
	}
	// In prompt order (tools, system, messages) no 1-hour breakpoint may follow a 5-minute one.
	var ccs []json.RawMessage
	for _, tl := range mr.Tools {
		ccs = append(ccs, tl.CacheControl)
	}
	for _, blk := range mr.System {
		ccs = append(ccs, blk.CacheControl)
	}
	for _, m := range mr.Messages {
		for _, blk := range m.Content {
			ccs = append(ccs, blk.CacheControl)
		}
	}
	short := false
	for _, cc := range ccs {
		switch {
		case len(cc) == 0:
		case isHour(cc) && short:
			t.Errorf("a 1-hour breakpoint follows a 5-minute one, which Anthropic refuses:\n%s", b)
		case !isHour(cc):
			short = true
		}
	}
	cr, err := bedrock.FromChat(body, "anthropic.claude-sonnet-4-5-20250929-v1:0", 0)
	if err != nil {
		t.Fatalf("bedrock.FromChat: %v", err)
	}
	b, _ = json.Marshal(cr)
	if n := bytes.Count(b, []byte(`"cachePoint"`)); n != want {
		t.Errorf("Converse request has %d cachePoint blocks, want %d:\n%s", n, want, b)
	}
}

func TestApplyUnreadable(t *testing.T) {
	for _, body := range []string{``, `[]`, `{"messages":"hi"}`, `{"messages":[],"tools":{}}`, `{"model":"x"}`} {
		got, added := Apply([]byte(body), Plan{})
		if added != 0 || string(got) != body {
			t.Errorf("%q: got %q, %d added", body, got, added)
		}
	}
}

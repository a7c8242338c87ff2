package promptcache

import (
	"bytes"
	"encoding/json"
	"sort"

	"github.com/clawgate/clawgate/proxy/internal/wire"
)

// Apply returns body with breakpoints added by plan, and how many it added. It never adds one
// where the client placed its own (on the message, one of its parts, or a tool), and never brings
// the request past MaxBreakpoints. A body it cannot read, or with nothing to add, comes back as
// it was: the translator that follows reports malformed requests.
//
// The default (no Points) follows Anthropic's advice for multi-turn conversations, in this order
// of priority when the client's own breakpoints leave fewer than four free:
//
//  1. the last system message: tools and system prompt, the long stable prefix, are read back on
//     every call;
//  2. the last message: the whole conversation so far is written, and read by the next turn;
//  3. the last tool: the tool list stays cached when the system prompt changes;
//  4. the message before the last assistant turn: where the previous call ended, so that call's
//     entry is found even when the turn added more blocks than Anthropic looks back over (20).
//
// Breakpoints go on the message itself (cache_control beside role, as LiteLLM accepts); the
// translators put them on the message's last block (Anthropic) or in a cachePoint after it
// (Bedrock). Points, when set, are applied as LiteLLM applies them, within the same limit: marks
// on tools and system messages are kept first, then the latest message marks.
func Apply(body []byte, plan Plan) ([]byte, int) {
	if plan.Off {
		return body, 0
	}
	var r request
	if !r.decode(body) {
		return body, 0
	}
	free := MaxBreakpoints - r.existing()
	if free <= 0 {
		return body, 0
	}
	var targets []target
	if len(plan.Points) > 0 {
		targets = r.fromPoints(plan.Points, free)
	} else {
		targets = r.defaults(free)
		// Anthropic refuses a 5-minute breakpoint before a 1-hour one: ours ahead of the
		// client's last 1-hour mark live an hour too.
		last := r.last1h()
		for i := range targets {
			if r.position(targets[i]) < last {
				targets[i].control = hour
			}
		}
	}
	if len(targets) == 0 {
		return body, 0
	}
	out, err := r.encode(targets)
	if err != nil {
		return body, 0
	}
	return out, len(targets)
}

// request is the part of a chat completion request that breakpoints touch; every other key is
// kept as it came.
type request struct {
	top   map[string]json.RawMessage
	msgs  []map[string]json.RawMessage
	tools []map[string]json.RawMessage
}

// target is one breakpoint to add: on message i, or on tool i when tool is set.
type target struct {
	tool    bool
	i       int
	control json.RawMessage
}

func (r *request) decode(body []byte) bool {
	if json.Unmarshal(body, &r.top) != nil || r.top == nil {
		return false
	}
	if raw, ok := r.top["messages"]; !ok || json.Unmarshal(raw, &r.msgs) != nil {
		return false
	}
	if raw, ok := r.top["tools"]; ok && !wire.IsNull(raw) && json.Unmarshal(raw, &r.tools) != nil {
		return false
	}
	return true
}

// controls returns the cache_control objects a client placed on one message: on the message
// and on its parts.
func controls(m map[string]json.RawMessage) []json.RawMessage {
	var out []json.RawMessage
	if !wire.IsNull(m["cache_control"]) {
		out = append(out, m["cache_control"])
	}
	content := bytes.TrimSpace(m["content"])
	if len(content) == 0 || content[0] != '[' {
		return out
	}
	var parts []struct {
		CacheControl json.RawMessage `json:"cache_control"`
	}
	if json.Unmarshal(content, &parts) != nil {
		return out
	}
	for _, p := range parts {
		if !wire.IsNull(p.CacheControl) {
			out = append(out, p.CacheControl)
		}
	}
	return out
}

func marks(m map[string]json.RawMessage) int { return len(controls(m)) }

func (r *request) toolMarks() int {
	n := 0
	for _, t := range r.tools {
		if !wire.IsNull(t["cache_control"]) {
			n++
		}
	}
	return n
}

func (r *request) existing() int {
	n := r.toolMarks()
	for _, m := range r.msgs {
		n += marks(m)
	}
	return n
}

// hour is the cache_control of Anthropic's 1-hour cache.
var hour = json.RawMessage(`{"type":"ephemeral","ttl":"1h"}`)

func isHour(cc json.RawMessage) bool {
	var c struct {
		TTL string `json:"ttl"`
	}
	return json.Unmarshal(cc, &c) == nil && c.TTL == "1h"
}

// position orders breakpoints as Anthropic reads the prompt: tools, then the system messages
// (lifted to the top), then the other messages.
func (r *request) position(t target) int {
	switch {
	case t.tool:
		return t.i
	case isSystem(r.role(t.i)):
		return len(r.tools) + t.i
	}
	return len(r.tools) + len(r.msgs) + t.i
}

// last1h is the position of the client's last 1-hour breakpoint, -1 when it placed none.
func (r *request) last1h() int {
	last := -1
	for i, t := range r.tools {
		if cc := t["cache_control"]; !wire.IsNull(cc) && isHour(cc) {
			last = max(last, r.position(target{tool: true, i: i}))
		}
	}
	for i, m := range r.msgs {
		for _, cc := range controls(m) {
			if isHour(cc) {
				last = max(last, r.position(target{i: i}))
			}
		}
	}
	return last
}

func (r *request) role(i int) string {
	var s string
	_ = json.Unmarshal(r.msgs[i]["role"], &s)
	return s
}

func isSystem(role string) bool { return role == "system" || role == "developer" }

func (r *request) defaults(free int) []target {
	var out []target
	add := func(t target) {
		if len(out) < free {
			out = append(out, t)
		}
	}
	n := len(r.msgs)
	sys, sysMarked, lastAssistant := -1, false, -1
	for i := range r.msgs {
		switch role := r.role(i); {
		case isSystem(role):
			sys = i
			sysMarked = sysMarked || marks(r.msgs[i]) > 0
		case role == "assistant":
			lastAssistant = i
		}
	}
	if sys >= 0 && !sysMarked {
		add(target{i: sys, control: ephemeral})
	}
	last := n - 1
	if last >= 0 && !isSystem(r.role(last)) && marks(r.msgs[last]) == 0 {
		add(target{i: last, control: ephemeral})
	}
	if len(r.tools) > 0 && r.toolMarks() == 0 {
		add(target{tool: true, i: len(r.tools) - 1, control: ephemeral})
	}
	if prev := lastAssistant - 1; prev >= 0 && prev != last {
		if role := r.role(prev); !isSystem(role) && role != "assistant" && marks(r.msgs[prev]) == 0 {
			add(target{i: prev, control: ephemeral})
		}
	}
	return out
}

func (r *request) fromPoints(points []Point, free int) []target {
	var all []target
	type key struct {
		tool bool
		i    int
	}
	seen := map[key]bool{}
	add := func(t target) {
		k := key{t.tool, t.i}
		if !seen[k] {
			seen[k] = true
			all = append(all, t)
		}
	}
	for _, p := range points {
		switch {
		case p.Location == "tool_config":
			if len(r.tools) > 0 && r.toolMarks() == 0 {
				add(target{tool: true, i: len(r.tools) - 1, control: p.Control})
			}
		case p.Index != nil:
			i := *p.Index
			if i < 0 {
				i += len(r.msgs)
			}
			if i >= 0 && i < len(r.msgs) && marks(r.msgs[i]) == 0 {
				add(target{i: i, control: p.Control})
			}
		default:
			for i := range r.msgs {
				if r.role(i) == p.Role && marks(r.msgs[i]) == 0 {
					add(target{i: i, control: p.Control})
				}
			}
		}
	}
	if len(all) <= free {
		return all
	}
	// Over the limit: tools and system prompt first, then the latest messages, whose prefixes
	// hold the earlier ones.
	var keep []target
	for _, t := range all {
		if len(keep) < free && (t.tool || isSystem(r.role(t.i))) {
			keep = append(keep, t)
		}
	}
	sort.SliceStable(all, func(a, b int) bool { return all[a].i > all[b].i })
	for _, t := range all {
		if len(keep) < free && !t.tool && !isSystem(r.role(t.i)) {
			keep = append(keep, t)
		}
	}
	return keep
}

func (r *request) encode(targets []target) ([]byte, error) {
	for _, t := range targets {
		if t.tool {
			r.tools[t.i]["cache_control"] = t.control
		} else {
			r.msgs[t.i]["cache_control"] = t.control
		}
	}
	var err error
	if r.top["messages"], err = wire.Marshal(r.msgs); err != nil {
		return nil, err
	}
	if r.tools != nil {
		if r.top["tools"], err = wire.Marshal(r.tools); err != nil {
			return nil, err
		}
	}
	return wire.Marshal(r.top)
}

package fakeupstream

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

//go:embed testdata/*.json testdata/*.sse
var recorded embed.FS

// slot is a per-request hole in a recorded payload.
type slot uint8

const (
	slotID      slot = iota // the completion id ("chatcmpl-...")
	slotCreated             // unix seconds
	slotModel               // the request's model
	slotCallID              // a tool call id ("call_...")
	slotName                // the tool's name
	slotText                // message content or an arguments fragment
)

// vals are the values for the slots, already JSON-escaped (without the quotes), so rendering
// is plain byte copying on the hot path.
type vals struct {
	id, created, model, callID, name, text []byte
}

func (v *vals) get(s slot) []byte {
	switch s {
	case slotID:
		return v.id
	case slotCreated:
		return v.created
	case slotModel:
		return v.model
	case slotCallID:
		return v.callID
	case slotName:
		return v.name
	default:
		return v.text
	}
}

// tmpl is a recorded payload cut at its slots: lits[0] slot[0] lits[1] ... lits[n].
type tmpl struct {
	lits  [][]byte
	slots []slot
}

func (t *tmpl) appendTo(dst []byte, v *vals) []byte {
	for i, s := range t.slots {
		dst = append(dst, t.lits[i]...)
		dst = append(dst, v.get(s)...)
	}
	return append(dst, t.lits[len(t.lits)-1]...)
}

// mark finds the value of one slot in a recorded payload: the regexp's first group is the value.
type mark struct {
	re   *regexp.Regexp
	slot slot
}

var (
	markID      = mark{regexp.MustCompile(`"id":\s*"(chatcmpl-[^"]*)"`), slotID}
	markCreated = mark{regexp.MustCompile(`"created":\s*([0-9]+)`), slotCreated}
	markModel   = mark{regexp.MustCompile(`"model":\s*"([^"]*)"`), slotModel}
	markCallID  = mark{regexp.MustCompile(`"id":\s*"(call_[^"]*)"`), slotCallID}
	markName    = mark{regexp.MustCompile(`"name":\s*"([^"]*)"`), slotName}
	markContent = mark{regexp.MustCompile(`"content":\s*"((?:[^"\\]|\\.)*)"`), slotText}
	markArgs    = mark{regexp.MustCompile(`"arguments":\s*"((?:[^"\\]|\\.)*)"`), slotText}
)

// compile cuts raw at every mark; each mark must match at least once, so a testdata file that
// drifts from what the code expects fails at start, not with a silently fixed value.
func compile(prefix, raw, suffix string, marks ...mark) (*tmpl, error) {
	type span struct {
		start, end int
		slot       slot
	}
	var spans []span
	for _, m := range marks {
		found := m.re.FindAllStringSubmatchIndex(raw, -1)
		if len(found) == 0 {
			return nil, fmt.Errorf("compile template: %s not found in %.80q", m.re, raw)
		}
		for _, f := range found {
			spans = append(spans, span{f[2], f[3], m.slot})
		}
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	t := &tmpl{}
	last := 0
	for i, s := range spans {
		if i > 0 && s.start < spans[i-1].end {
			return nil, fmt.Errorf("compile template: overlapping slots at %d", s.start)
		}
		t.lits = append(t.lits, []byte(raw[last:s.start]))
		t.slots = append(t.slots, s.slot)
		last = s.end
	}
	t.lits = append(t.lits, []byte(raw[last:]))
	t.lits[0] = append([]byte(prefix), t.lits[0]...)
	t.lits[len(t.lits)-1] = append(t.lits[len(t.lits)-1], suffix...)
	return t, nil
}

// streamSet is one recorded SSE transcript, ready to replay with or without usage.
type streamSet struct {
	first  *tmpl // role chunk (text) or the tool call's first chunk (id, name, empty arguments)
	delta  *tmpl // one content or arguments fragment
	finish *tmpl
	usage  *tmpl // nil in the variant without include_usage
	// deltas are the recorded fragments, JSON-escaped, replayed for the recorded answer.
	deltas [][]byte
}

// templates holds every pre-rendered payload the server answers with.
type templates struct {
	completion        *tmpl // chat.completion with text
	toolCompletion    *tmpl // chat.completion with one tool call
	textContent       []byte
	toolArgs          string // the recorded arguments, unescaped
	toolArgKeys       []string
	text, textNoUsage streamSet
	tool, toolNoUsage streamSet
	models            []byte
}

const (
	sseData = "data: "
	sseEnd  = "\n\n"
	sseDone = "data: [DONE]\n\n"
)

func loadTemplates() (*templates, error) {
	read := func(name string) (string, error) {
		b, err := recorded.ReadFile("testdata/" + name)
		if err != nil {
			return "", fmt.Errorf("read recorded payload: %w", err)
		}
		return string(b), nil
	}
	t := &templates{}
	var err error

	raw, err := read("chat_completion.json")
	if err != nil {
		return nil, err
	}
	var cc struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal([]byte(raw), &cc); err != nil || len(cc.Choices) != 1 {
		return nil, fmt.Errorf("chat_completion.json: want one choice: %v", err)
	}
	t.textContent = escape(cc.Choices[0].Message.Content)
	if t.completion, err = compile("", raw, "", markID, markCreated, markModel, markContent); err != nil {
		return nil, fmt.Errorf("chat_completion.json: %w", err)
	}

	raw, err = read("tool_call.json")
	if err != nil {
		return nil, err
	}
	var tc struct {
		Choices []struct {
			Message struct {
				ToolCalls []struct {
					Function struct {
						Arguments string `json:"arguments"`
					} `json:"function"`
				} `json:"tool_calls"`
			} `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal([]byte(raw), &tc); err != nil || len(tc.Choices) != 1 || len(tc.Choices[0].Message.ToolCalls) != 1 {
		return nil, fmt.Errorf("tool_call.json: want one choice with one tool call: %v", err)
	}
	t.toolArgs = tc.Choices[0].Message.ToolCalls[0].Function.Arguments
	var args map[string]any
	if err := json.Unmarshal([]byte(t.toolArgs), &args); err != nil {
		return nil, fmt.Errorf("tool_call.json: arguments: %w", err)
	}
	for k := range args {
		t.toolArgKeys = append(t.toolArgKeys, k)
	}
	if t.toolCompletion, err = compile("", raw, "", markID, markCreated, markModel, markCallID, markName, markArgs); err != nil {
		return nil, fmt.Errorf("tool_call.json: %w", err)
	}

	raw, err = read("chat_stream.sse")
	if err != nil {
		return nil, err
	}
	if t.text, t.textNoUsage, err = loadStream(raw, false); err != nil {
		return nil, fmt.Errorf("chat_stream.sse: %w", err)
	}
	raw, err = read("tool_call_stream.sse")
	if err != nil {
		return nil, err
	}
	if t.tool, t.toolNoUsage, err = loadStream(raw, true); err != nil {
		return nil, fmt.Errorf("tool_call_stream.sse: %w", err)
	}

	raw, err = read("models.json")
	if err != nil {
		return nil, err
	}
	if !json.Valid([]byte(raw)) {
		return nil, fmt.Errorf("models.json: invalid JSON")
	}
	t.models = []byte(raw)
	return t, nil
}

// streamChunk is what loadStream needs to know about a recorded chunk to classify it.
type streamChunk struct {
	Choices []struct {
		Delta struct {
			Role      *string `json:"role"`
			Content   *string `json:"content"`
			ToolCalls []struct {
				ID       string `json:"id"`
				Function struct {
					Arguments string `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage json.RawMessage `json:"usage"`
}

// loadStream reads a transcript recorded with include_usage and derives the variant OpenAI
// sends without it: no usage chunk, and no "usage":null on the other chunks.
func loadStream(raw string, tool bool) (withUsage, without streamSet, err error) {
	events := strings.Split(strings.TrimRight(raw, "\n"), sseEnd)
	if len(events) < 4 || events[len(events)-1] != strings.TrimSuffix(sseDone, sseEnd) {
		return withUsage, without, fmt.Errorf("want role, delta, finish, usage chunks and [DONE], got %d events", len(events))
	}
	var first, delta, finish, usage string
	var deltas [][]byte
	for _, ev := range events[:len(events)-1] {
		payload, ok := strings.CutPrefix(ev, sseData)
		if !ok {
			return withUsage, without, fmt.Errorf("event without %q: %.60q", sseData, ev)
		}
		var c streamChunk
		if err := json.Unmarshal([]byte(payload), &c); err != nil {
			return withUsage, without, fmt.Errorf("chunk: %w", err)
		}
		switch {
		case len(c.Choices) == 0:
			if string(c.Usage) == "null" || len(c.Usage) == 0 {
				return withUsage, without, fmt.Errorf("chunk with no choices and no usage")
			}
			usage = payload
		case c.Choices[0].FinishReason != nil:
			finish = payload
		case c.Choices[0].Delta.Role != nil:
			first = payload
		case tool && len(c.Choices[0].Delta.ToolCalls) == 1:
			if delta == "" {
				delta = payload
			}
			deltas = append(deltas, escape(c.Choices[0].Delta.ToolCalls[0].Function.Arguments))
		case !tool && c.Choices[0].Delta.Content != nil:
			if delta == "" {
				delta = payload
			}
			deltas = append(deltas, escape(*c.Choices[0].Delta.Content))
		default:
			return withUsage, without, fmt.Errorf("unexpected chunk %.80q", payload)
		}
	}
	if first == "" || delta == "" || finish == "" || usage == "" {
		return withUsage, without, fmt.Errorf("missing role, delta, finish or usage chunk")
	}
	firstMarks := []mark{markID, markCreated, markModel}
	deltaMark := markContent
	if tool {
		firstMarks = append(firstMarks, markCallID, markName)
		deltaMark = markArgs
	}
	build := func(strip bool) (streamSet, error) {
		fix := func(s string) string {
			if strip {
				return strings.Replace(s, `,"usage":null`, "", 1)
			}
			return s
		}
		var s streamSet
		var err error
		if s.first, err = compile(sseData, fix(first), sseEnd, firstMarks...); err != nil {
			return s, err
		}
		if s.delta, err = compile(sseData, fix(delta), sseEnd, markID, markCreated, markModel, deltaMark); err != nil {
			return s, err
		}
		if s.finish, err = compile(sseData, fix(finish), sseEnd, markID, markCreated, markModel); err != nil {
			return s, err
		}
		if !strip {
			if s.usage, err = compile(sseData, usage, sseEnd, markID, markCreated, markModel); err != nil {
				return s, err
			}
		}
		s.deltas = deltas
		return s, nil
	}
	if withUsage, err = build(false); err != nil {
		return withUsage, without, err
	}
	without, err = build(true)
	return withUsage, without, err
}

// escape returns s as the inside of a JSON string. HTML escaping is off, as in OpenAI's output.
func escape(s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	return b[1 : len(b)-1]
}

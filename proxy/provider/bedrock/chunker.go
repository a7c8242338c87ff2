package bedrock

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"

	"github.com/clawgate/clawgate/proxy/internal/wire"
	"github.com/clawgate/clawgate/proxy/provider"
	"github.com/clawgate/clawgate/proxy/provider/internal/httpx"
)

// streamEvent is every ConverseStream event payload in one shape (the event's name travels in
// the frame's :event-type header). Strings the translation copies into OpenAI chunks are kept
// raw: they are already valid JSON strings, so they pass without being unescaped and escaped
// again. Bedrock pads payloads with a "p" field, which is ignored.
type streamEvent struct {
	ContentBlockIndex int `json:"contentBlockIndex"`
	Start             *struct {
		ToolUse *struct {
			ToolUseID string `json:"toolUseId"`
			Name      string `json:"name"`
		} `json:"toolUse"`
	} `json:"start"`
	Delta *struct {
		Text    json.RawMessage `json:"text"`
		ToolUse *struct {
			Input json.RawMessage `json:"input"`
		} `json:"toolUse"`
		ReasoningContent *struct {
			Text            json.RawMessage `json:"text"`
			Signature       json.RawMessage `json:"signature"`
			RedactedContent json.RawMessage `json:"redactedContent"`
		} `json:"reasoningContent"`
	} `json:"delta"`
	StopReason *string `json:"stopReason"`
	Usage      *usage  `json:"usage"`
}

// block is what the chunker remembers about one content block.
type block struct {
	tool     int    // OpenAI tool_calls index; -1 for blocks that are not tool calls
	args     int    // bytes of tool arguments sent so far
	thinking []byte // reasoning text so far, as the inside of a JSON string
}

// chunker turns ConverseStream events into OpenAI chat.completion.chunk payloads. It does no
// I/O, so tests can drive it event by event.
type chunker struct {
	id, model string
	blocks    map[int]*block
	tools     int
	finished  bool // a finish_reason chunk went out
	done      bool // metadata seen: the usage chunk went out and the stream is over

	wire.Chunks // the chunks produced and not yet handed out, and their shared head
}

func newChunker(id, model string) *chunker {
	return &chunker{id: id, model: model, blocks: make(map[int]*block)}
}

// event translates one event. Event types added after this was written are skipped.
func (t *chunker) event(name string, payload []byte) error {
	var ev streamEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return &provider.Error{
			Status: http.StatusBadGateway, Type: "api_error",
			Message: httpx.Truncate("bedrock: upstream sent a "+name+" event that is not valid JSON: "+err.Error(), httpx.MaxMessage),
			Err:     err,
		}
	}
	switch name {
	case "messageStart":
		t.begin()
	case "contentBlockStart":
		t.begin()
		t.blockStart(&ev)
	case "contentBlockDelta":
		t.begin()
		t.blockDelta(&ev)
	case "contentBlockStop":
		t.blockStop(ev.ContentBlockIndex)
	case "messageStop":
		t.begin()
		if !t.finished {
			stop := ""
			if ev.StopReason != nil {
				stop = *ev.StopReason
			}
			t.finish(finishReason(stop))
		}
	case "metadata":
		t.begin()
		if !t.finished {
			t.finish("stop")
		}
		var u usage
		if ev.Usage != nil {
			u = *ev.Usage
		}
		t.Usage(u.chat())
		t.done = true
	}
	return nil
}

// eof ends a stream whose body ended before the metadata event. Without it there is no usage
// to report, so the stream is an error even after messageStop.
func (t *chunker) eof() error {
	return &provider.Error{
		Status: http.StatusBadGateway, Type: "api_connection_error", Transport: true,
		Message: "bedrock: upstream closed the event stream before its metadata event", Err: io.ErrUnexpectedEOF,
	}
}

// begin sends the role chunk once, whichever event comes first.
func (t *chunker) begin() {
	if t.Head != nil {
		return
	}
	h := append([]byte(nil), `{"id":`...)
	h = appendString(h, t.id)
	h = append(h, `,"object":"chat.completion.chunk","created":`...)
	h = strconv.AppendInt(h, now().Unix(), 10)
	h = append(h, `,"model":`...)
	h = appendString(h, t.model)
	t.Head = h
	t.Delta(`{"role":"assistant","content":""}`)
}

// blockFor returns the block at index, creating a plain (not tool) one: Bedrock sends
// contentBlockStart only for tool calls, text and reasoning blocks start with their first delta.
func (t *chunker) blockFor(index int) *block {
	b := t.blocks[index]
	if b == nil {
		b = &block{tool: -1}
		t.blocks[index] = b
	}
	return b
}

func (t *chunker) blockStart(ev *streamEvent) {
	if ev.Start == nil || ev.Start.ToolUse == nil {
		return
	}
	tu := ev.Start.ToolUse
	b := &block{tool: t.tools}
	t.tools++
	t.blocks[ev.ContentBlockIndex] = b
	c := t.Open()
	c = append(c, `{"tool_calls":[{"index":`...)
	c = strconv.AppendInt(c, int64(b.tool), 10)
	c = append(c, `,"id":`...)
	c = appendString(c, tu.ToolUseID)
	c = append(c, `,"type":"function","function":{"name":`...)
	c = appendString(c, tu.Name)
	c = append(c, `,"arguments":""}}]}`...)
	t.Close(c)
}

func (t *chunker) blockDelta(ev *streamEvent) {
	d := ev.Delta
	if d == nil {
		return
	}
	switch {
	case d.Text != nil:
		if wire.IsString(d.Text) && len(d.Text) > 2 {
			t.Delta(`{"content":`, d.Text, `}`)
		}
	case d.ToolUse != nil:
		b := t.blocks[ev.ContentBlockIndex]
		in := d.ToolUse.Input
		if b == nil || b.tool < 0 || !wire.IsString(in) || len(in) <= 2 {
			return // arguments for a call that never started have nowhere to go
		}
		b.args += len(in) - 2
		t.ArgsDelta(b.tool, in)
	case d.ReasoningContent != nil:
		t.reasoning(t.blockFor(ev.ContentBlockIndex), d.ReasoningContent.Text, d.ReasoningContent.Signature, d.ReasoningContent.RedactedContent)
	}
	// citations and newer delta kinds have no chat completion equivalent.
}

// reasoning sends a reasoning fragment as reasoning_content, and, once the signature (or
// redacted content) comes, the whole block as thinking_blocks so that a client can echo it.
func (t *chunker) reasoning(b *block, text, signature, redacted json.RawMessage) {
	switch {
	case wire.IsString(text) && len(text) > 2:
		b.thinking = append(b.thinking, text[1:len(text)-1]...)
		t.Delta(`{"reasoning_content":`, text, `}`)
	case wire.IsString(signature):
		c := t.Open()
		c = append(c, `{"thinking_blocks":[{"type":"thinking","thinking":"`...)
		c = append(c, b.thinking...)
		c = append(c, `","signature":`...)
		c = append(c, signature...)
		c = append(c, `}]}`...)
		t.Close(c)
	case wire.IsString(redacted) && len(redacted) > 2:
		t.Delta(`{"thinking_blocks":[{"type":"redacted_thinking","data":`, redacted, `}]}`)
	}
}

func (t *chunker) blockStop(index int) {
	b := t.blocks[index]
	if b == nil {
		return
	}
	delete(t.blocks, index)
	if b.tool >= 0 && b.args == 0 {
		// A call without arguments: send "{}" so that the client always holds valid JSON.
		t.ArgsDelta(b.tool, []byte(`"{}"`))
	}
}

func (t *chunker) finish(reason string) {
	t.finished = true
	t.Finish(reason)
}

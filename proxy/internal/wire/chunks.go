package wire

import (
	"encoding/json"
	"strconv"
)

// Chunks is the buffer a stream translator writes chat.completion.chunk payloads into: one
// upstream event may yield several chunks, kept back to back in Out with their end offsets in
// Ends, so a stream hands them out without an allocation each. Head is the shared start of
// every chunk: {"id":...,"object":"chat.completion.chunk","created":...,"model":...
type Chunks struct {
	Head []byte
	Out  []byte
	Ends []int
	next int // the next chunk Take hands out
}

// Take hands out the next chunk not yet taken, valid until Reset; ok is false when none is left.
func (t *Chunks) Take() (c []byte, ok bool) {
	if t.next >= len(t.Ends) {
		return nil, false
	}
	start := 0
	if t.next > 0 {
		start = t.Ends[t.next-1]
	}
	end := t.Ends[t.next]
	t.next++
	return t.Out[start:end], true
}

// Pending is how many bytes of chunks are waiting to be taken.
func (t *Chunks) Pending() int {
	if t.next >= len(t.Ends) {
		return 0
	}
	start := 0
	if t.next > 0 {
		start = t.Ends[t.next-1]
	}
	return t.Ends[len(t.Ends)-1] - start
}

// Reset forgets every chunk, keeping the memory for the next event's.
func (t *Chunks) Reset() {
	t.Out, t.Ends, t.next = t.Out[:0], t.Ends[:0], 0
}

// Finish appends the chunk that carries finish_reason and an empty delta.
func (t *Chunks) Finish(reason string) {
	c := append(t.Out, t.Head...)
	c = append(c, `,"choices":[{"index":0,"delta":{},"finish_reason":`...)
	c = AppendString(c, reason)
	c = append(c, `}]}`...)
	t.Push(c)
}

// Usage appends the usage chunk (no choices) for include_usage.
func (t *Chunks) Usage(u any) {
	raw, _ := Marshal(u)
	c := append(t.Out, t.Head...)
	c = append(c, `,"choices":[],"usage":`...)
	c = append(c, raw...)
	c = append(c, '}')
	t.Push(c)
}

// Delta appends a chunk whose delta is the concatenation of parts (strings or raw JSON).
func (t *Chunks) Delta(parts ...any) {
	c := t.Open()
	for _, p := range parts {
		switch p := p.(type) {
		case string:
			c = append(c, p...)
		case json.RawMessage:
			c = append(c, p...)
		}
	}
	t.Close(c)
}

// Open starts a delta chunk in t.Out; Close ends it. Between them the caller appends the delta.
func (t *Chunks) Open() []byte {
	c := append(t.Out, t.Head...)
	return append(c, `,"choices":[{"index":0,"delta":`...)
}

// Close ends a chunk begun with Open.
func (t *Chunks) Close(c []byte) {
	t.Push(append(c, `,"finish_reason":null}]}`...))
}

// Push records c, which is t.Out with one more whole chunk appended.
func (t *Chunks) Push(c []byte) {
	t.Out = c
	t.Ends = append(t.Ends, len(c))
}

// ArgsDelta appends a chunk carrying more of tool call index's arguments; raw is a JSON string.
func (t *Chunks) ArgsDelta(index int, raw []byte) {
	c := t.Open()
	c = append(c, `{"tool_calls":[{"index":`...)
	c = strconv.AppendInt(c, int64(index), 10)
	c = append(c, `,"function":{"arguments":`...)
	c = append(c, raw...)
	c = append(c, `}}]}`...)
	t.Close(c)
}

package claudeapi

import (
	"bytes"
	"encoding/json"
)

// Usage is what a Messages answer says it used. Anthropic's input_tokens leaves out the cached
// part: cache reads and writes are counted beside it, and the prompt is the three together.
type Usage struct {
	Input, Output, CacheWrite, CacheRead int
	// Known is false until an answer carried a usage object.
	Known bool
}

// Prompt is every input token: uncached, written to the cache and read from it.
func (u Usage) Prompt() int { return u.Input + u.CacheWrite + u.CacheRead }

type usageJSON struct {
	InputTokens              *int `json:"input_tokens"`
	OutputTokens             *int `json:"output_tokens"`
	CacheCreationInputTokens *int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     *int `json:"cache_read_input_tokens"`
}

// merge takes the figures o carries; Anthropic's are cumulative, so a later one wins.
func (u *Usage) merge(o *usageJSON) {
	if o == nil {
		return
	}
	u.Known = true
	set := func(dst *int, v *int) {
		if v != nil {
			*dst = *v
		}
	}
	set(&u.Input, o.InputTokens)
	set(&u.Output, o.OutputTokens)
	set(&u.CacheWrite, o.CacheCreationInputTokens)
	set(&u.CacheRead, o.CacheReadInputTokens)
}

// Message reads the usage of a non-streamed answer (a Message object) and returns its id.
func (u *Usage) Message(body []byte) (id string) {
	var m struct {
		ID    string     `json:"id"`
		Usage *usageJSON `json:"usage"`
	}
	if json.Unmarshal(body, &m) != nil {
		return ""
	}
	u.merge(m.Usage)
	return m.ID
}

// Event reads one stream event: message_start carries the message's id and its first usage
// (input and cache figures, and a first output count), message_delta the running totals. It
// returns the id when the event is message_start. Events without usage, nearly all, are not
// decoded.
func (u *Usage) Event(data []byte) (id string) {
	if !bytes.Contains(data, []byte(`"usage"`)) {
		return ""
	}
	var ev struct {
		Type    string `json:"type"`
		Message *struct {
			ID    string     `json:"id"`
			Usage *usageJSON `json:"usage"`
		} `json:"message"`
		Usage *usageJSON `json:"usage"`
	}
	if json.Unmarshal(data, &ev) != nil {
		return ""
	}
	switch ev.Type {
	case "message_start":
		if ev.Message != nil {
			u.merge(ev.Message.Usage)
			return ev.Message.ID
		}
	case "message_delta":
		u.merge(ev.Usage)
	}
	return ""
}

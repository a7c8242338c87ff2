package fakeupstream

import (
	"encoding/json"
	"net/http"
	"sync"
)

// anthropicRecorded are the Messages API transcripts, parsed once.
var anthropicRecorded = sync.OnceValue(func() (rec struct {
	toolStream, textStream []sseEvent
	tool, text             map[string]any
	args                   map[string]any
}) {
	rec.toolStream = loadSSE("anthropic_tool_use.sse")
	rec.textStream = loadSSE("anthropic_text.sse")
	loadJSON("anthropic_tool_use.json", &rec.tool)
	loadJSON("anthropic_text.json", &rec.text)
	for _, b := range list(rec.tool, "content") {
		if b.(map[string]any)["type"] == "tool_use" {
			rec.args = obj(b, "input")
		}
	}
	return rec
})

func anthropicError(w http.ResponseWriter, status int, msg string) {
	typ := "invalid_request_error"
	switch status {
	case http.StatusUnauthorized:
		typ = "authentication_error"
	case http.StatusNotFound:
		typ = "not_found_error"
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"type": "error", "error": map[string]any{"type": typ, "message": msg}})
}

// anthropic answers POST /v1/messages.
func (n *Native) anthropic(w http.ResponseWriter, r *http.Request, body []byte) {
	key := r.Header.Get("x-api-key")
	if key == "" || (n.Key != "" && key != n.Key) {
		anthropicError(w, http.StatusUnauthorized, "invalid x-api-key")
		return
	}
	if r.Header.Get("anthropic-version") == "" {
		anthropicError(w, http.StatusBadRequest, "anthropic-version: header is required")
		return
	}
	var req struct {
		Model     string `json:"model"`
		MaxTokens int    `json:"max_tokens"`
		Stream    bool   `json:"stream"`
		Tools     []struct {
			Name        string          `json:"name"`
			InputSchema json.RawMessage `json:"input_schema"`
		} `json:"tools"`
		Messages []struct {
			Role    string          `json:"role"`
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		anthropicError(w, http.StatusBadRequest, err.Error())
		return
	}
	switch {
	case req.Model == "":
		anthropicError(w, http.StatusBadRequest, "model: Field required")
		return
	case req.MaxTokens <= 0:
		anthropicError(w, http.StatusBadRequest, "max_tokens: Field required")
		return
	case len(req.Messages) == 0:
		anthropicError(w, http.StatusBadRequest, "messages: at least one message is required")
		return
	}
	var usage *cacheUsage
	if n.Cache != nil {
		u, err := n.Cache.anthropic(req.Model, body)
		if err != nil {
			anthropicError(w, http.StatusBadRequest, err.Error())
			return
		}
		usage = &u
	}
	hasResult, result := false, ""
	if last := req.Messages[len(req.Messages)-1]; last.Role == "user" {
		var blocks []struct {
			Type    string          `json:"type"`
			Content json.RawMessage `json:"content"`
		}
		_ = json.Unmarshal(last.Content, &blocks) // string content holds no tool result
		for _, b := range blocks {
			if b.Type == "tool_result" {
				hasResult = true
				result += textOf(b.Content)
			}
		}
	}
	name, schema := "", json.RawMessage(nil)
	if len(req.Tools) > 0 {
		name, schema = req.Tools[0].Name, req.Tools[0].InputSchema
	}
	rec := anthropicRecorded()
	ans, err := decide(r, name, schema, hasResult, result, rec.args)
	if err != nil {
		anthropicError(w, http.StatusBadRequest, err.Error())
		return
	}
	msgID, toolID := "msg_"+n.nextID(), "toolu_"+n.nextID()
	w.Header().Set("request-id", "req_"+n.nextID())

	if !req.Stream {
		msg := clone(rec.text)
		if ans.tool {
			msg = clone(rec.tool)
		}
		msg["id"], msg["model"] = msgID, req.Model
		usage.setAnthropic(obj(msg, "usage"))
		for _, b := range msg["content"].([]any) {
			block := b.(map[string]any)
			switch {
			case block["type"] == "tool_use":
				block["id"], block["name"], block["input"] = toolID, ans.name, ans.args
			case block["type"] == "text" && ans.quote != "":
				block["text"] = ans.quote
			}
		}
		writeNativeJSON(w, msg)
		return
	}

	events := cloneEvents(rec.textStream)
	if ans.tool {
		events = cloneEvents(rec.toolStream)
	}
	// The recorded deltas of the kind we replace are refilled with fragments of our text.
	kind, fill := "", ""
	switch {
	case ans.tool:
		kind, fill = "input_json_delta", string(ans.args)
	case ans.quote != "":
		kind, fill = "text_delta", ans.quote
	}
	count := 0
	for _, ev := range events {
		if ev.name == "content_block_delta" && obj(ev.data, "delta")["type"] == kind {
			count++
		}
	}
	frags := splitN(fill, count)
	for _, ev := range events {
		switch ev.name {
		case "message_start":
			m := obj(ev.data, "message")
			m["id"], m["model"] = msgID, req.Model
			usage.setAnthropic(obj(m, "usage"))
		case "content_block_start":
			if cb := obj(ev.data, "content_block"); cb["type"] == "tool_use" {
				cb["id"], cb["name"] = toolID, ans.name
			}
		case "content_block_delta":
			d := obj(ev.data, "delta")
			if d["type"] != kind || kind == "" {
				continue
			}
			if kind == "text_delta" {
				d["text"] = frags[0]
			} else {
				d["partial_json"] = frags[0]
			}
			frags = frags[1:]
		}
	}
	writeSSE(w, r, events)
}

package fakeupstream

import (
	"encoding/json"
	"net/http"
	"strings"
)

// OpenAI's Responses API (POST /v1/responses, and Azure's /openai/v1/responses): the recorded
// text or tool-call response, decided by the OpenAI fake's rule on the request's function tools
// and its last input item, with the request's model and fresh ids; streamed as the API's events,
// made from the same response.

func openaiError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": "invalid_request_error", "param": nil, "code": nil}})
}

func (n *Native) responses(w http.ResponseWriter, r *http.Request, body []byte) {
	auth := r.Header.Get("Authorization")
	if strings.HasPrefix(r.URL.Path, "/openai/") {
		auth = "Bearer " + r.Header.Get("api-key")
	}
	if n.Key != "" && auth != "Bearer "+n.Key {
		openaiError(w, http.StatusUnauthorized, "Incorrect API key provided.")
		return
	}
	var req struct {
		Model  string          `json:"model"`
		Stream bool            `json:"stream"`
		Input  json.RawMessage `json:"input"`
		Tools  []struct {
			Type       string          `json:"type"`
			Name       string          `json:"name"`
			Parameters json.RawMessage `json:"parameters"`
		} `json:"tools"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.Model == "" {
		openaiError(w, http.StatusBadRequest, "model and input are required")
		return
	}
	var items []struct {
		Type   string          `json:"type"`
		Output json.RawMessage `json:"output"`
	}
	_ = json.Unmarshal(req.Input, &items) // a string input has no items
	hasResult, result := false, ""
	if len(items) > 0 && items[len(items)-1].Type == "function_call_output" {
		hasResult, result = true, textOf(items[len(items)-1].Output)
	}
	toolName, schema := "", json.RawMessage(nil)
	for _, t := range req.Tools {
		if t.Type == "function" {
			toolName, schema = t.Name, t.Parameters
			break
		}
	}
	ans, err := decide(r, toolName, schema, hasResult, result, map[string]any{})
	if err != nil {
		openaiError(w, http.StatusBadRequest, err.Error())
		return
	}
	var resp map[string]any
	id := n.nextID()
	if ans.tool {
		loadJSON("responses_tool_call.json", &resp)
		call := list(resp, "output")[0].(map[string]any)
		call["id"], call["call_id"], call["name"], call["arguments"] = "fc_"+id, "call_"+id, ans.name, string(ans.args)
	} else {
		loadJSON("responses_text.json", &resp)
		msg := list(resp, "output")[0].(map[string]any)
		msg["id"] = "msg_" + id
		if ans.quote != "" {
			list(msg, "content")[0].(map[string]any)["text"] = ans.quote
		}
	}
	resp["id"], resp["model"] = "resp_"+id, req.Model
	if !req.Stream {
		writeNativeJSON(w, resp)
		return
	}
	writeSSE(w, r, responseEvents(resp))
}

// responseEvents is the event stream that delivers resp: created, in_progress, each output item
// with its deltas, completed with the usage.
func responseEvents(resp map[string]any) []sseEvent {
	var evs []sseEvent
	add := func(name string, data map[string]any) {
		data["type"], data["sequence_number"] = name, len(evs)
		evs = append(evs, sseEvent{name: name, data: data})
	}
	start := clone(resp)
	start["status"], start["output"], start["usage"] = "in_progress", []any{}, nil
	add("response.created", map[string]any{"response": start})
	add("response.in_progress", map[string]any{"response": start})
	for i, it := range list(resp, "output") {
		item := it.(map[string]any)
		id := item["id"]
		open := clone(item)
		open["status"] = "in_progress"
		switch item["type"] {
		case "message":
			open["content"] = []any{}
			add("response.output_item.added", map[string]any{"output_index": i, "item": open})
			text := list(item, "content")[0].(map[string]any)["text"].(string)
			add("response.content_part.added", map[string]any{"item_id": id, "output_index": i, "content_index": 0,
				"part": map[string]any{"type": "output_text", "text": "", "annotations": []any{}}})
			for _, piece := range splitN(text, 3) {
				add("response.output_text.delta", map[string]any{"item_id": id, "output_index": i, "content_index": 0, "delta": piece, "logprobs": []any{}})
			}
			add("response.output_text.done", map[string]any{"item_id": id, "output_index": i, "content_index": 0, "text": text, "logprobs": []any{}})
			add("response.content_part.done", map[string]any{"item_id": id, "output_index": i, "content_index": 0,
				"part": map[string]any{"type": "output_text", "text": text, "annotations": []any{}}})
		case "function_call":
			open["arguments"] = ""
			add("response.output_item.added", map[string]any{"output_index": i, "item": open})
			args := item["arguments"].(string)
			for _, piece := range splitN(args, 2) {
				add("response.function_call_arguments.delta", map[string]any{"item_id": id, "output_index": i, "delta": piece})
			}
			add("response.function_call_arguments.done", map[string]any{"item_id": id, "output_index": i, "arguments": args})
		}
		add("response.output_item.done", map[string]any{"output_index": i, "item": item})
	}
	add("response.completed", map[string]any{"response": resp})
	return evs
}

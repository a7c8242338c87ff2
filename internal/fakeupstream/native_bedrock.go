package fakeupstream

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
)

// bedrockFrame is one recorded ConverseStream event (the provider package's events.json shape).
type bedrockFrame struct {
	Event   string         `json:"event"`
	Payload map[string]any `json:"payload"`
}

// bedrockRecorded are the Converse transcripts, parsed once.
var bedrockRecorded = sync.OnceValue(func() (rec struct {
	toolStream, textStream []bedrockFrame
	tool, text             map[string]any
	args                   map[string]any
}) {
	loadJSON("bedrock_tool_use.events.json", &rec.toolStream)
	loadJSON("bedrock_text.events.json", &rec.textStream)
	loadJSON("bedrock_tool_use.json", &rec.tool)
	loadJSON("bedrock_text.json", &rec.text)
	for _, c := range list(obj(obj(rec.tool, "output"), "message"), "content") {
		if tu, ok := c.(map[string]any)["toolUse"]; ok {
			rec.args = obj(tu, "input")
		}
	}
	return rec
})

func bedrockError(w http.ResponseWriter, status int, msg string) {
	typ := "ValidationException"
	switch status {
	case http.StatusForbidden, http.StatusUnauthorized:
		typ = "AccessDeniedException"
	case http.StatusNotFound:
		typ = "ResourceNotFoundException"
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-amzn-ErrorType", typ)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"message": msg})
}

// bedrock answers POST /model/{modelId}/converse and /converse-stream.
func (n *Native) bedrock(w http.ResponseWriter, r *http.Request, body []byte) {
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=") && !strings.HasPrefix(auth, "Bearer ") {
		bedrockError(w, http.StatusForbidden, "Missing Authentication Token")
		return
	}
	rest := strings.TrimPrefix(r.URL.Path, "/model/")
	stream := false
	model, ok := strings.CutSuffix(rest, "/converse-stream")
	if ok {
		stream = true
	} else if model, ok = strings.CutSuffix(rest, "/converse"); !ok {
		bedrockError(w, http.StatusNotFound, "unknown operation "+r.URL.Path)
		return
	}
	if model == "" {
		bedrockError(w, http.StatusBadRequest, "modelId is required")
		return
	}
	var req struct {
		Messages []struct {
			Role    string `json:"role"`
			Content []struct {
				ToolResult *struct {
					Content json.RawMessage `json:"content"`
				} `json:"toolResult"`
			} `json:"content"`
		} `json:"messages"`
		ToolConfig *struct {
			Tools []struct {
				ToolSpec *struct {
					Name        string `json:"name"`
					InputSchema struct {
						JSON json.RawMessage `json:"json"`
					} `json:"inputSchema"`
				} `json:"toolSpec"`
			} `json:"tools"`
		} `json:"toolConfig"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		bedrockError(w, http.StatusBadRequest, err.Error())
		return
	}
	if len(req.Messages) == 0 {
		bedrockError(w, http.StatusBadRequest, "A conversation must start with a user message.")
		return
	}
	var usage *cacheUsage
	if n.Cache != nil {
		u, err := n.Cache.converse(model, body)
		if err != nil {
			bedrockError(w, http.StatusBadRequest, err.Error())
			return
		}
		usage = &u
	}
	hasResult, result := false, ""
	for _, c := range req.Messages[len(req.Messages)-1].Content {
		if c.ToolResult != nil {
			hasResult = true
			result += textOf(c.ToolResult.Content)
		}
	}
	name, schema := "", json.RawMessage(nil)
	if req.ToolConfig != nil {
		for _, t := range req.ToolConfig.Tools {
			if t.ToolSpec != nil {
				name, schema = t.ToolSpec.Name, t.ToolSpec.InputSchema.JSON
				break
			}
		}
	}
	rec := bedrockRecorded()
	ans, err := decide(r, name, schema, hasResult, result, rec.args)
	if err != nil {
		bedrockError(w, http.StatusBadRequest, err.Error())
		return
	}
	toolID := "tooluse_" + n.nextID()
	w.Header().Set("x-amzn-RequestId", n.nextID())

	if !stream {
		msg := clone(rec.text)
		if ans.tool {
			msg = clone(rec.tool)
		}
		for _, c := range list(obj(obj(msg, "output"), "message"), "content") {
			block := c.(map[string]any)
			if tu, ok := block["toolUse"].(map[string]any); ok {
				tu["toolUseId"], tu["name"], tu["input"] = toolID, ans.name, ans.args
			} else if _, ok := block["text"]; ok && ans.quote != "" {
				block["text"] = ans.quote
			}
		}
		usage.setConverse(obj(msg, "usage"))
		writeNativeJSON(w, msg)
		return
	}

	frames := clone(rec.textStream)
	if ans.tool {
		frames = clone(rec.toolStream)
	}
	// Refill the recorded deltas of the replaced kind with fragments of our text.
	kind, fill := "", ""
	switch {
	case ans.tool:
		kind, fill = "toolUse", string(ans.args)
	case ans.quote != "":
		kind, fill = "text", ans.quote
	}
	count := 0
	for _, f := range frames {
		if f.Event == "contentBlockDelta" && obj(f.Payload, "delta")[kind] != nil {
			count++
		}
	}
	frags := splitN(fill, count)
	for _, f := range frames {
		switch f.Event {
		case "metadata":
			usage.setConverse(obj(f.Payload, "usage"))
		case "contentBlockStart":
			if tu, ok := obj(f.Payload, "start")["toolUse"].(map[string]any); ok {
				tu["toolUseId"], tu["name"] = toolID, ans.name
			}
		case "contentBlockDelta":
			d := obj(f.Payload, "delta")
			if kind == "" || d[kind] == nil {
				continue
			}
			if kind == "text" {
				d["text"] = frags[0]
			} else {
				d["toolUse"] = map[string]any{"input": frags[0]}
			}
			frags = frags[1:]
		}
	}
	w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	enc := eventstream.NewEncoder()
	for _, f := range frames {
		if r.Context().Err() != nil {
			return
		}
		payload, _ := json.Marshal(f.Payload)
		var m eventstream.Message
		m.Headers.Set(":message-type", eventstream.StringValue("event"))
		m.Headers.Set(":event-type", eventstream.StringValue(f.Event))
		m.Headers.Set(":content-type", eventstream.StringValue("application/json"))
		m.Payload = payload
		if err := enc.Encode(w, m); err != nil {
			return
		}
		if flusher != nil {
			flusher.Flush()
		}
	}
}

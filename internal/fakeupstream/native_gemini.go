package fakeupstream

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
)

// geminiRecorded are the generateContent transcripts, parsed once.
var geminiRecorded = sync.OnceValue(func() (rec struct {
	toolStream, textStream []sseEvent
	tool, text             map[string]any
	args                   map[string]any
}) {
	rec.toolStream = loadSSE("gemini_tool_call.sse")
	rec.textStream = loadSSE("gemini_text.sse")
	loadJSON("gemini_tool_call.json", &rec.tool)
	loadJSON("gemini_text.json", &rec.text)
	part := list(obj(list(rec.tool, "candidates")[0], "content"), "parts")[0]
	rec.args = obj(obj(part, "functionCall"), "args")
	return rec
})

func geminiError(w http.ResponseWriter, status int, msg string) {
	st := "INVALID_ARGUMENT"
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden:
		st = "PERMISSION_DENIED"
	case http.StatusNotFound:
		st = "NOT_FOUND"
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": status, "message": msg, "status": st}})
}

// gemini answers POST /v1beta/models/{model}:generateContent and :streamGenerateContent.
func (n *Native) gemini(w http.ResponseWriter, r *http.Request, body []byte) {
	key := r.Header.Get("x-goog-api-key")
	if key == "" {
		key = r.URL.Query().Get("key")
	}
	if key == "" || (n.Key != "" && key != n.Key) {
		geminiError(w, http.StatusForbidden, "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.")
		return
	}
	rest := strings.TrimPrefix(r.URL.Path, "/v1beta/models/")
	i := strings.LastIndexByte(rest, ':')
	if i <= 0 {
		geminiError(w, http.StatusNotFound, "no method in "+r.URL.Path)
		return
	}
	model, method := rest[:i], rest[i+1:]
	stream := false
	switch method {
	case "generateContent":
	case "streamGenerateContent":
		stream = true
	default:
		geminiError(w, http.StatusNotFound, "unknown method "+method)
		return
	}
	var req struct {
		Contents []struct {
			Role  string `json:"role"`
			Parts []struct {
				FunctionResponse *struct {
					Name     string          `json:"name"`
					Response json.RawMessage `json:"response"`
				} `json:"functionResponse"`
			} `json:"parts"`
		} `json:"contents"`
		Tools []struct {
			FunctionDeclarations []struct {
				Name                 string          `json:"name"`
				Parameters           json.RawMessage `json:"parameters"`
				ParametersJSONSchema json.RawMessage `json:"parametersJsonSchema"`
			} `json:"functionDeclarations"`
		} `json:"tools"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		geminiError(w, http.StatusBadRequest, err.Error())
		return
	}
	if len(req.Contents) == 0 {
		geminiError(w, http.StatusBadRequest, "* GenerateContentRequest.contents: contents is not specified")
		return
	}
	hasResult, result := false, ""
	for _, p := range req.Contents[len(req.Contents)-1].Parts {
		if p.FunctionResponse == nil {
			continue
		}
		hasResult = true
		var wrapped struct {
			Content *string `json:"content"`
		}
		if json.Unmarshal(p.FunctionResponse.Response, &wrapped) == nil && wrapped.Content != nil {
			result += *wrapped.Content
		} else {
			result += string(p.FunctionResponse.Response)
		}
	}
	name, schema := "", json.RawMessage(nil)
	for _, t := range req.Tools {
		if len(t.FunctionDeclarations) > 0 {
			fd := t.FunctionDeclarations[0]
			name, schema = fd.Name, fd.Parameters
			if schema == nil {
				schema = fd.ParametersJSONSchema
			}
			break
		}
	}
	rec := geminiRecorded()
	ans, err := decide(r, name, schema, hasResult, result, rec.args)
	if err != nil {
		geminiError(w, http.StatusBadRequest, err.Error())
		return
	}
	respID := n.nextID()
	fix := func(chunk map[string]any, text string, setText bool) {
		chunk["modelVersion"], chunk["responseId"] = model, respID
		part := list(obj(list(chunk, "candidates")[0], "content"), "parts")[0].(map[string]any)
		if ans.tool {
			part["functionCall"] = map[string]any{"name": ans.name, "args": ans.args}
		} else if setText {
			part["text"] = text
		}
	}
	if !stream {
		msg := clone(rec.text)
		if ans.tool {
			msg = clone(rec.tool)
		}
		fix(msg, ans.quote, ans.quote != "")
		writeNativeJSON(w, msg)
		return
	}
	events := cloneEvents(rec.textStream)
	if ans.tool {
		events = cloneEvents(rec.toolStream)
	}
	frags := splitN(ans.quote, len(events))
	for i, ev := range events {
		fix(ev.data, frags[i], ans.quote != "")
	}
	if r.URL.Query().Get("alt") != "sse" {
		// Without alt=sse Gemini streams one JSON array of the same chunks.
		chunks := make([]any, len(events))
		for i, ev := range events {
			chunks[i] = ev.data
		}
		writeNativeJSON(w, chunks)
		return
	}
	writeSSE(w, r, events)
}

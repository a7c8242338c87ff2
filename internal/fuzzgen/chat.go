package fuzzgen

// ChatBody writes an OpenAI chat completion request from the fuzzer's bytes: the messages, parts,
// tools, schemas and parameters the translators read, with known values mostly and anything now
// and then (see fuzzgen). Random bytes are almost never such a body: a fuzzer fed them spent 96%
// of its time in json.Unmarshal's refusals.
func (g *Gen) ChatBody(models ...string) string {
	s, e := g.TextOf, g.EnumOf
	num := g.Number
	// messages come first, from the first bytes, and always: a body without them is refused at once.
	msgs := Arr(append([]string{chatMessage(g, s, e)}, g.List(3, func() string { return chatMessage(g, s, e) })...)...)
	body := g.Fields(
		O("model", func() string { return Quote(g.Enum(models...)) }),
		F("tools", func() string { return Arr(g.List(3, func() string { return chatTool(g, s, e) })...) }),
		F("tool_choice", func() string {
			if g.Bool() {
				return e("auto", "none", "required", "any")()
			}
			return Obj("type", `"function"`, "function", Obj("name", s("f", "g")()))
		}),
		F("temperature", num), F("top_p", num), F("top_k", g.Integer),
		F("max_tokens", g.Integer), F("max_completion_tokens", g.Integer), F("n", g.Integer), F("seed", g.Integer),
		F("stop", func() string {
			if g.Bool() {
				return s("\n", "END")()
			}
			return Arr(g.List(3, s("\n\n", "Title", ""))...)
		}),
		F("stream", func() string { return g.Pick("true", "false") }),
		F("stream_options", func() string { return Obj("include_usage", g.Pick("true", "false")) }),
		F("user", s("u1")), F("presence_penalty", num), F("frequency_penalty", num),
		F("reasoning_effort", e("low", "medium", "high", "minimal", "none", "disable")),
		F("thinking", func() string {
			return g.Fields(O("type", e("enabled", "disabled")), F("budget_tokens", g.Integer))
		}),
		F("response_format", func() string {
			return g.Fields(O("type", e("json_schema", "json_object", "text")),
				F("json_schema", func() string {
					return g.Fields(F("name", s("r")), F("strict", func() string { return g.Pick("true", "false") }),
						F("schema", func() string { return g.Schema(3) }))
				}))
		}),
		F("parallel_tool_calls", func() string { return g.Pick("true", "false") }),
		F("safety_settings", func() string {
			return Arr(Obj("category", s("HARM_CATEGORY_HARASSMENT")(), "threshold", s("BLOCK_NONE")()))
		}),
		F("metadata", func() string { return Obj("user_id", s("u")()) }),
	)
	out, _ := g.Damage(Prepend(`"messages":`+msgs, body))
	return out
}

func chatMessage(g *Gen, s, e func(...string) func() string) string {
	role := g.Enum("user", "assistant", "user", "assistant", "user", "assistant", "user", "tool",
		"user", "assistant", "tool", "system", "user", "assistant", "developer", "function")
	parts := func() string {
		return Arr(append(g.List(2, func() string { return chatPart(g, s, e, role == "system") }), chatPart(g, s, e, role == "system"))...)
	}
	content := func() string {
		switch g.N(16) { // 0, what the end of the data picks, is the plainest
		case 0, 1, 2, 3, 4:
			return s("hi", "", "{\"a\":1}")()
		case 15:
			return "null"
		}
		return parts()
	}
	// role goes first, and what the role needs is there most of the time: a message without it
	// is refused at once.
	fields := []Field{O("content", content), F("name", s("n", "f"))}
	switch role {
	case "tool":
		fields = append(fields, O("tool_call_id", s("call_1", "call_2", "")))
	case "assistant":
		fields = append(fields, F("tool_calls", func() string { return Arr(g.List(2, func() string { return chatToolCall(g, s, e) })...) }),
			F("reasoning_content", s("thinking")),
			F("thinking_blocks", func() string {
				return Arr(g.List(2, func() string {
					return g.Fields(O("type", e("thinking", "redacted_thinking")), F("thinking", s("t")),
						F("signature", s("c2ln")), F("data", s("d")))
				})...)
			}))
	default:
		if g.Chance(8) { // fields that belong to another role
			fields = append(fields, F("tool_call_id", s("call_1")), F("tool_calls", func() string { return Arr(chatToolCall(g, s, e)) }))
		}
	}
	fields = append(fields, F("cache_control", func() string { return Obj("type", `"ephemeral"`) }))
	return Prepend(`"role":`+Quote(role), g.Fields(fields...))
}

func chatToolCall(g *Gen, s, e func(...string) func() string) string {
	return g.Fields(O("id", s("call_1", "call_2", "call_1__thought__c2ln")), O("type", e("function")),
		O("function", func() string {
			return g.Fields(O("name", s("f", "g")), F("arguments", func() string {
				if g.Bool() {
					return Quote(g.Pick(`{"a":1}`, "", "{", `[1]`, `{"x":"y"}`))
				}
				return g.Value(2)
			}))
		}),
		F("provider_specific_fields", func() string { return Obj("thought_signature", s("c2ln")()) }))
}

// part writes a content part; system messages get text parts mostly, as they may hold only text.
func chatPart(g *Gen, s, e func(...string) func() string, system bool) string {
	url := s("data:image/png;base64,iVBORw0KGgo=", "https://e.example/cat.JPG", "gs://b/x.jpg",
		"data:application/pdf;base64,JVBERi0=", "data:image/png,xx", "data:;base64,QQ==", "data:image/png;base64,!!")
	typ := g.Enum("text", "image_url", "file", "input_audio", "text", "image_url", "refusal")
	if system && !g.Chance(8) {
		typ = "text"
	}
	// The field the type names is there most of the time; the others now and then.
	field := func(name string, value func() string) Field {
		if name == typ {
			return O(name, value)
		}
		if g.Chance(8) {
			return F(name, value)
		}
		return Field{}
	}
	fields := []Field{
		field("text", s("hi", "")),
		field("image_url", func() string {
			if g.Chance(4) {
				return url()
			}
			return g.Fields(O("url", url), F("detail", s("high", "low")), F("format", s("image/jpeg")))
		}),
		field("file", func() string {
			if g.Bool() {
				return g.Fields(O("file_data", url), F("filename", s("a.pdf")), F("format", s("video/mp4", "application/pdf")))
			}
			return g.Fields(O("file_id", s("https://e.example/files/x", "file-1")), F("format", s("video/mp4", "application/pdf")))
		}),
		field("input_audio", func() string {
			return g.Fields(O("data", s("UklGRg==", "!")), O("format", s("wav", "mp3")))
		}),
		F("cache_control", func() string { return g.Fields(O("type", e("ephemeral")), F("ttl", e("5m", "1h"))) }),
	}
	return Prepend(`"type":`+Quote(typ), g.Fields(fields...))
}

func chatTool(g *Gen, s, e func(...string) func() string) string {
	return g.Fields(
		O("type", e("function", "function", "web_search")),
		O("function", func() string {
			return g.Fields(O("name", s("f", "g", "")), F("description", s("d")),
				F("parameters", func() string { return g.Schema(3) }), F("strict", func() string { return "true" }))
		}),
		F("cache_control", func() string { return Obj("type", `"ephemeral"`) }),
	)
}

// Prepend puts the members kv first in the JSON object obj.
func Prepend(kv, obj string) string {
	if obj == "{}" {
		return "{" + kv + "}"
	}
	return "{" + kv + "," + obj[1:]
}

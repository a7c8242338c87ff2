package fuzzgen

import "strconv"

// MessagesBody writes an Anthropic Messages request from the fuzzer's bytes: the blocks, tools,
// tool choices and thinking settings ToChat reads, with known values mostly and anything now and
// then (see fuzzgen). Random bytes are almost never such a body: 98.5% of them stopped at
// json.Unmarshal. The plainest choice (what the end of the data picks) is always index 0.
func (g *Gen) MessagesBody(models ...string) string {
	s, e := g.TextOf, g.EnumOf
	msgs := Arr(append([]string{messagesMessage(g, s, e, "user")}, g.List(3, func() string {
		return messagesMessage(g, s, e, g.Enum("assistant", "user"))
	})...)...)
	model := Quote(g.Enum(models...))
	rest := g.Fields(
		O("max_tokens", func() string {
			if g.Chance(16) {
				return g.Integer()
			}
			return strconv.Itoa(1 + int(g.Byte())*64)
		}),
		F("system", func() string {
			if g.Bool() {
				return s("You are terse.", "")()
			}
			return Arr(g.List(2, func() string { return messagesBlock(g, s, e, "text", 1) })...)
		}),
		F("stop_sequences", func() string { return Arr(g.List(2, s("\n\nHuman:", "END"))...) }),
		F("stream", func() string { return g.Pick("true", "false") }),
		F("temperature", g.Number), F("top_p", g.Number), F("top_k", g.Integer),
		F("metadata", func() string {
			return g.Fields(O("user_id", s("u-1", "user_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef_account")))
		}),
		F("tools", func() string {
			return Arr(g.List(3, func() string {
				if g.Chance(8) { // a server tool
					return g.Fields(O("type", e("web_search_20250305", "bash_20250124", "text_editor_20250124")), O("name", s("web_search", "bash")))
				}
				return g.Fields(O("name", s("f", "g")), F("description", s("d")),
					O("input_schema", func() string { return g.Schema(2) }),
					F("cache_control", func() string { return Obj("type", `"ephemeral"`) }))
			})...)
		}),
		F("tool_choice", func() string {
			return g.Fields(O("type", e("auto", "any", "tool", "none")), F("name", s("f", "g")),
				F("disable_parallel_tool_use", func() string { return g.Pick("true", "false") }))
		}),
		F("thinking", func() string {
			return g.Fields(O("type", e("enabled", "disabled", "adaptive")), O("budget_tokens", g.Integer))
		}),
	)
	out, _ := g.Damage(Prepend(`"model":`+model+`,"messages":`+msgs, rest))
	return out
}

func messagesMessage(g *Gen, s, e func(...string) func() string, role string) string {
	var content string
	switch g.N(8) {
	case 0, 1, 2:
		content = s("hi", "")()
	case 7:
		if g.Chance(4) {
			content = "null"
		} else {
			content = s("ok")()
		}
	default:
		types := []string{"text", "image", "document", "tool_result", "text"}
		if role == "assistant" {
			types = []string{"text", "tool_use", "thinking", "redacted_thinking", "text"}
		}
		content = Arr(append([]string{messagesBlock(g, s, e, g.Enum(types...), 2)}, g.List(2, func() string {
			return messagesBlock(g, s, e, g.Enum(types...), 2)
		})...)...)
	}
	return Obj("role", Quote(role), "content", content)
}

// messagesBlock writes a content block of type typ, with the fields that type needs most of the time.
func messagesBlock(g *Gen, s, e func(...string) func() string, typ string, depth int) string {
	var fields []Field
	// A source of the kind its block takes, with the fields that kind needs.
	source := func() string {
		kinds := []string{"base64", "url", "base64"}
		if typ == "document" {
			kinds = []string{"base64", "text", "url", "content"}
		}
		kind := g.Enum(kinds...)
		media, data := "image/png", "iVBORw0KGgo="
		switch {
		case kind == "text":
			media, data = "text/plain", "plain text"
		case typ == "document":
			media, data = "application/pdf", "JVBERi0="
		}
		fields := []Field{F("media_type", s(media, "image/gif", "")), F("data", s(data, "!!"))}
		switch kind {
		case "base64", "text":
			fields = []Field{O("media_type", s(media, "image/gif", "")), O("data", s(data, "!!"))}
		case "url":
			fields = append(fields, O("url", s("https://e.example/a.png", "")))
		case "content":
			fields = append(fields, O("content", func() string { return Arr(messagesBlock(g, s, e, "text", 0)) }))
		}
		return Prepend(`"type":`+Quote(kind), g.Fields(fields...))
	}
	switch typ {
	case "text":
		fields = []Field{O("text", s("hi", ""))}
	case "image", "document":
		fields = []Field{O("source", source), F("title", s("t"))}
	case "tool_use":
		fields = []Field{O("id", s("toolu_1", "toolu_2")), O("name", s("f", "g")),
			O("input", func() string { return g.Pick(`{}`, `{"a":1}`, g.Value(2)) })}
	case "tool_result":
		fields = []Field{O("tool_use_id", s("toolu_1", "toolu_2")),
			F("content", func() string {
				if depth <= 0 || g.Bool() {
					return s("ok", "")()
				}
				return Arr(g.List(2, func() string { return messagesBlock(g, s, e, g.Enum("text", "image", "document"), depth-1) })...)
			}),
			F("is_error", func() string { return g.Pick("true", "false") })}
	case "thinking":
		fields = []Field{O("thinking", s("hmm", "")), O("signature", s("c2ln", ""))}
	case "redacted_thinking":
		fields = []Field{O("data", s("ZGF0YQ=="))}
	}
	fields = append(fields, F("cache_control", func() string {
		return g.Fields(O("type", e("ephemeral")), F("ttl", e("5m", "1h")))
	}))
	return Prepend(`"type":`+Quote(typ), g.Fields(fields...))
}

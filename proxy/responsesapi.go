package proxy

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/clawgate/clawgate/proxy/provider"
	"github.com/clawgate/clawgate/proxy/responses"
)

// handleResponses serves OpenAI's Responses API (POST /v1/responses) on every route by
// translating it to a chat completion served by handleChat, so that auth, budgets, key model
// limits, routing, retries, fallbacks and usage are those of chat, to the byte; the answer is
// translated back on the way out, event by event for streams. Stored responses (store: true, the
// API's default) are kept in memory for previous_response_id, GET and DELETE (see
// responses.Store for why memory, and its bounds).
//
// The key is checked before the body is read, as for every endpoint.
func (s *Server) handleResponses(w http.ResponseWriter, r *http.Request) {
	st := s.state.Load()
	p, err := s.authenticate(r, st)
	if err != nil {
		s.writeAuthError(w, err)
		return
	}
	body, err := readBody(w, r, st.maxBody)
	if err != nil {
		status, msg := bodyError(err, st.maxBody)
		writeError(w, status, newAPIError(status, typeInvalidRequest, msg), 0)
		return
	}
	req, err := responses.Parse(body)
	if err != nil {
		writeResponsesError(w, err)
		return
	}
	store := s.responseStore(st)
	var history []json.RawMessage
	id := req.PreviousResponseID
	stored, kept := store.Get(id)
	// OpenAI and Azure routes get the request as it is, unless it continues a conversation kept
	// here (made on a translated route), which only this gateway knows.
	if (!kept || stored.Upstream != "") && responsesNative(st, p.resolve(req.Model)) {
		s.passThrough(w, r, p, body, req.Stored())
		return
	}
	if id != "" {
		e, ok := stored, kept
		if !ok || !owns(p, e.Owner) || e.Upstream != "" {
			writeResponsesError(w, &provider.Error{Status: http.StatusBadRequest, Param: "previous_response_id",
				Message: "Previous response with id '" + id + "' not found. Responses are kept by this gateway, in memory, for general_settings.responses_store_ttl (24 h by default) and only when made with store: true; resend the conversation as input."})
			return
		}
		history = e.Conversation
	}
	lookup := func(id string) (json.RawMessage, bool) {
		owner, item, ok := store.Item(id)
		return item, ok && owns(p, owner)
	}
	req.Plain = !s.anthropicGroup(st, p.resolve(req.Model))
	chat, info, err := responses.ToChat(req, history, lookup, newResponseID(), time.Now().Unix())
	if err != nil {
		writeResponsesError(w, err)
		return
	}
	ctx := context.WithValue(context.WithValue(r.Context(), callTypeKey{}, "aresponses"), principalKey{}, p)
	r2 := r.Clone(ctx)
	r2.ContentLength = int64(len(chat))
	r2.Body = readCloser{bytes.NewReader(chat)}
	rw := &responsesWriter{w: w, info: info, header: http.Header{}}
	s.handleChat(rw, r2)
	res, ok := rw.finish()
	if ok && req.Stored() {
		owner := p.KeyHash
		if p.Master {
			owner = ""
		}
		store.Put(info.ID, responses.Entry{Owner: owner, Response: res.Response, Input: info.Input, Output: res.Output,
			Conversation: append(info.History, res.Assistant)})
	}
}

// owns reports whether p may see a response stored by owner: its own key's, or any for the master key.
func owns(p *Principal, owner string) bool {
	return p.Master || owner == p.KeyHash
}

// responseStore returns the store of responses, made on first use, with the config's TTL.
func (s *Server) responseStore(st *state) *responses.Store {
	s.respOnce.Do(func() { s.respStore = responses.NewStore(0, 0, 0) })
	s.respStore.SetLimits(st.cfg.General.ResponsesStoreTTL, 0, 0)
	return s.respStore
}

func newResponseID() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return "resp_" + hex.EncodeToString(b[:])
}

// handleResponseGet serves GET /v1/responses/{id}, and DELETE, and GET .../input_items.
func (s *Server) handleResponseGet(w http.ResponseWriter, r *http.Request) {
	st := s.state.Load()
	p, err := s.authenticate(r, st)
	if err != nil {
		s.writeAuthError(w, err)
		return
	}
	id := r.PathValue("id")
	store := s.responseStore(st)
	e, ok := store.Get(id)
	if !ok || !owns(p, e.Owner) {
		writeError(w, http.StatusNotFound, newAPIError(http.StatusNotFound, typeInvalidRequest,
			"Response with id '"+id+"' not found.").withParam("response_id"), 0)
		return
	}
	if e.Upstream != "" {
		s.forwardStored(w, r, st, id, e.Upstream)
		return
	}
	var out []byte
	switch {
	case r.Method == http.MethodDelete:
		store.Delete(id)
		out, _ = json.Marshal(map[string]any{"id": id, "object": "response", "deleted": true})
	case r.PathValue("items") != "":
		out, err = inputItemsPage(e.Input, r)
		if err != nil {
			writeError(w, http.StatusBadRequest, newAPIError(http.StatusBadRequest, typeInvalidRequest, err.Error()), 0)
			return
		}
	default:
		out = e.Response
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	_, _ = w.Write(out)
}

// inputItemsPage is the list object of input_items: order (desc by default, as OpenAI's), limit
// (1 to 100, default 20) and after (an item id) as the API takes them.
func inputItemsPage(items []json.RawMessage, r *http.Request) ([]byte, error) {
	q := r.URL.Query()
	limit := 20
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return nil, errors.New("limit must be an integer from 1 to 100")
		}
		limit = n
	}
	list := append([]json.RawMessage(nil), items...)
	switch q.Get("order") {
	case "", "desc":
		for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
			list[i], list[j] = list[j], list[i]
		}
	case "asc":
	default:
		return nil, errors.New("order must be asc or desc")
	}
	ids := make([]string, len(list))
	for i, it := range list {
		var head struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(it, &head)
		ids[i] = head.ID
	}
	if after := q.Get("after"); after != "" {
		for i, id := range ids {
			if id == after {
				list, ids = list[i+1:], ids[i+1:]
				break
			}
		}
	}
	more := len(list) > limit
	if more {
		list, ids = list[:limit], ids[:limit]
	}
	page := map[string]any{"object": "list", "data": list, "has_more": more, "first_id": nil, "last_id": nil}
	if len(ids) > 0 {
		page["first_id"], page["last_id"] = ids[0], ids[len(ids)-1]
	}
	if list == nil {
		page["data"] = []json.RawMessage{}
	}
	return json.Marshal(page)
}

func writeResponsesError(w http.ResponseWriter, err error) {
	pe := provider.AsError(err)
	e := newAPIError(pe.Status, typeInvalidRequest, pe.Message)
	if pe.Param != "" {
		e = e.withParam(pe.Param)
	}
	writeError(w, pe.Status, e, 0)
}

// responsesWriter sits between handleChat and the client: errors (OpenAI's envelope, which the
// Responses API shares) pass as they are; a completion or an SSE stream of chunks becomes a
// response object or the Responses events.
type responsesWriter struct {
	w      http.ResponseWriter
	info   responses.Info
	header http.Header
	status int
	stream *responses.StreamWriter
	buf    bytes.Buffer // a non-streamed body, or a partial SSE event
	closed bool
}

func (rw *responsesWriter) Header() http.Header { return rw.header }

func (rw *responsesWriter) WriteHeader(status int) {
	if rw.status != 0 {
		return
	}
	rw.status = status
	dst := rw.w.Header()
	for k, v := range rw.header {
		if k != "Content-Length" || status != http.StatusOK {
			dst[k] = v
		}
	}
	switch {
	case status != http.StatusOK:
		rw.w.WriteHeader(status)
	case rw.header.Get("Content-Type") == "text/event-stream":
		rw.stream = responses.NewStreamWriter(rw.w, rw.info)
		rw.w.WriteHeader(status)
		_ = rw.stream.Start()
	}
}

func (rw *responsesWriter) Write(p []byte) (int, error) {
	if rw.status == 0 {
		rw.WriteHeader(http.StatusOK)
	}
	if rw.status != http.StatusOK {
		return rw.w.Write(p)
	}
	rw.buf.Write(p)
	if rw.stream == nil {
		return len(p), nil
	}
	for {
		b := rw.buf.Bytes()
		i := bytes.Index(b, eventEnd)
		if i < 0 {
			return len(p), nil
		}
		data, isData := bytes.CutPrefix(b[:i], dataPrefix)
		var err error
		if isData && !rw.closed {
			err = rw.event(data)
		}
		rw.buf.Next(i + len(eventEnd))
		if err != nil {
			return len(p), err
		}
	}
}

func (rw *responsesWriter) event(data []byte) error {
	if bytes.Equal(data, []byte("[DONE]")) {
		rw.closed = true
		return rw.stream.Close(nil)
	}
	if bytes.HasPrefix(data, []byte(`{"error"`)) {
		var env envelope
		_ = json.Unmarshal(data, &env)
		status, _ := strconv.Atoi(env.Error.Code)
		rw.closed = true
		return rw.stream.Close(&provider.Error{Status: status, Type: env.Error.Type, Message: env.Error.Message})
	}
	return rw.stream.Chunk(data)
}

func (rw *responsesWriter) Flush() {
	if rw.stream != nil {
		_ = http.NewResponseController(rw.w).Flush()
	}
}

// finish writes what was buffered and returns the finished response, ok when one was made.
func (rw *responsesWriter) finish() (responses.Result, bool) {
	if rw.stream != nil {
		if !rw.closed {
			_ = rw.stream.Close(errors.New("the stream ended early"))
			return responses.Result{}, false
		}
		res := rw.stream.Result()
		return res, res.Assistant != nil
	}
	if rw.status != http.StatusOK {
		return responses.Result{}, false
	}
	res, err := responses.FromChatCompletion(rw.buf.Bytes(), rw.info)
	if err != nil {
		writeResponsesError(rw.w, err)
		return res, false
	}
	rw.w.Header().Set("Content-Length", strconv.Itoa(len(res.Response)))
	rw.w.WriteHeader(http.StatusOK)
	_, _ = rw.w.Write(res.Response)
	return res, true
}

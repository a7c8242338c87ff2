package ledger

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/clawgate/clawgate/app/store"
	"github.com/clawgate/clawgate/proxy"
)

// The /key/* handlers decode the request, call the key operation (keyops.go) and encode its answer.

// writeOpError answers a key operation's error: an OpError with its status, anything else 500.
func writeOpError(w http.ResponseWriter, err error) {
	var op *OpError
	if errors.As(err, &op) {
		proxy.WriteError(w, op.Status, op.Type, op.Msg, 0, op.Extra)
		return
	}
	serverError(w, err)
}

// keyGenerate serves POST /key/generate: a new virtual key, shown once, stored as its SHA-256.
func (l *Ledger) keyGenerate(w http.ResponseWriter, r *http.Request, p *proxy.Principal) {
	var q KeyRequest
	raw, err := readBody(r, &q)
	if err != nil {
		badRequest(w, "%v", err)
		return
	}
	key, k, err := l.GenerateKey(r.Context(), q)
	if err != nil {
		writeOpError(w, err)
		return
	}
	// GenerateKeyResponse: the request echoed, with the key and what was made of it.
	out := raw
	for f, val := range l.keyObject(k) {
		if _, sent := out[f]; !sent || f == "spend" || f == "budget_reset_at" || f == "expires" || f == "token" {
			out[f] = val
		}
	}
	out["key"] = key
	out["key_name"] = k.KeyName
	out["token_id"] = k.Token
	if _, ok := out["duration"]; !ok {
		out["duration"] = nil
	}
	writeJSON(w, http.StatusOK, out)
}

// keyInfo serves GET /key/info?key=<key or hash>; without key, the caller's own key.
func (l *Ledger) keyInfo(w http.ResponseWriter, r *http.Request, p *proxy.Principal) {
	param := strings.TrimSpace(r.URL.Query().Get("key"))
	token := p.KeyHash
	shown := p.KeyHash
	if param != "" {
		token, shown = tokenOf(param), param
	}
	if token == "" || (p.Master && param == "") {
		notFound(w, "The master key is not a virtual key: pass ?key=<key or hash> to read a virtual key's info.")
		return
	}
	// A key that does not exist is a 404 to anyone, as LiteLLM answers; another key that does
	// exist is none of a virtual key's business.
	k, err := l.KeyInfo(r.Context(), token)
	if err != nil {
		writeOpError(w, err)
		return
	}
	if !p.Master && token != p.KeyHash {
		proxy.WriteError(w, http.StatusForbidden, typeAuth, "A virtual key may only read its own /key/info: leave out ?key= or use the master key.", 0, nil)
		return
	}
	info := l.keyObject(k)
	delete(info, "token") // LiteLLM's /key/info never shows the key's hash
	writeJSON(w, http.StatusOK, map[string]any{"key": shown, "info": info})
}

// keyUpdate serves POST /key/update: only the fields sent (and not null) change.
func (l *Ledger) keyUpdate(w http.ResponseWriter, r *http.Request, _ *proxy.Principal) {
	var q KeyRequest
	if _, err := readBody(r, &q); err != nil {
		badRequest(w, "%v", err)
		return
	}
	name := ""
	if q.Key != nil {
		name = *q.Key
	}
	k, err := l.UpdateKey(r.Context(), name, q)
	if err != nil {
		writeOpError(w, err)
		return
	}
	out := l.keyObject(k)
	out["key"] = name
	writeJSON(w, http.StatusOK, out)
}

// keyDelete serves POST /key/delete with {"keys": [...]} or {"key_aliases": [...]}.
func (l *Ledger) keyDelete(w http.ResponseWriter, r *http.Request, _ *proxy.Principal) {
	var q struct {
		Keys       []string `json:"keys"`
		KeyAliases []string `json:"key_aliases"`
	}
	if _, err := readBody(r, &q); err != nil {
		badRequest(w, "%v", err)
		return
	}
	if err := l.DeleteKeys(r.Context(), q.Keys, q.KeyAliases); err != nil {
		writeOpError(w, err)
		return
	}
	deleted := q.Keys
	if len(deleted) == 0 {
		deleted = q.KeyAliases
	}
	writeJSON(w, http.StatusOK, map[string]any{"deleted_keys": deleted})
}

// keyList serves GET /key/list (page, size, key_alias, user_id, key_hash, return_full_object).
func (l *Ledger) keyList(w http.ResponseWriter, r *http.Request, _ *proxy.Principal) {
	q := r.URL.Query()
	page, err := intParam(q.Get("page"), 1, 1, math.MaxInt32)
	if err != nil {
		badRequest(w, "page: %v", err)
		return
	}
	size, err := intParam(q.Get("size"), 10, 1, 100)
	if err != nil {
		badRequest(w, "size: %v", err)
		return
	}
	full := false
	if v := q.Get("return_full_object"); v != "" {
		if full, err = strconv.ParseBool(v); err != nil {
			badRequest(w, "return_full_object must be true or false")
			return
		}
	}
	opts := store.ListKeysOpts{Page: page, Size: size, Alias: q.Get("key_alias"), UserID: q.Get("user_id"), TeamID: q.Get("team_id")}
	if h := q.Get("key_hash"); h != "" {
		opts.Token = tokenOf(h)
	}
	l.syncKeys(r.Context()) // the spend shown is this process's: bring it in line with the store first
	keys, total, err := l.st.ListKeys(r.Context(), opts)
	if err != nil {
		serverError(w, err)
		return
	}
	out := make([]any, 0, len(keys))
	if full {
		for _, o := range l.keyObjects(r.Context(), keys) {
			out = append(out, o)
		}
	} else {
		for _, k := range keys {
			out = append(out, k.Token)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": out, "total_count": total, "current_page": page,
		"total_pages": (total + size - 1) / size})
}

func intParam(s string, def, lo, hi int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("want a whole number from %d to %d, got %q", lo, hi, s)
	}
	return n, nil
}

// keyRegenerate serves POST /key/regenerate with the key in the body.
func (l *Ledger) keyRegenerate(w http.ResponseWriter, r *http.Request, _ *proxy.Principal) {
	l.regenerate(w, r, "")
}

// regenerate serves LiteLLM's /key/{key}/regenerate (pathKey) and /key/regenerate (key in the body).
func (l *Ledger) regenerate(w http.ResponseWriter, r *http.Request, pathKey string) {
	var q KeyRequest
	if _, err := readBody(r, &q); err != nil {
		badRequest(w, "%v", err)
		return
	}
	name := pathKey
	if name == "" && q.Key != nil {
		name = *q.Key
	}
	key, k, err := l.RegenerateKey(r.Context(), name, q)
	if err != nil {
		writeOpError(w, err)
		return
	}
	out := l.keyObject(k)
	out["key"] = key
	out["token_id"] = k.Token
	writeJSON(w, http.StatusOK, out)
}

func (l *Ledger) keyBlock(w http.ResponseWriter, r *http.Request, _ *proxy.Principal) {
	l.setBlocked(w, r, true)
}

func (l *Ledger) keyUnblock(w http.ResponseWriter, r *http.Request, _ *proxy.Principal) {
	l.setBlocked(w, r, false)
}

// setBlocked serves /key/block and /key/unblock: {"key": "<key or hash>"} -> the key's row.
func (l *Ledger) setBlocked(w http.ResponseWriter, r *http.Request, blocked bool) {
	var q struct {
		Key string `json:"key"`
	}
	if _, err := readBody(r, &q); err != nil {
		badRequest(w, "%v", err)
		return
	}
	k, err := l.SetKeyBlocked(r.Context(), q.Key, blocked)
	if err != nil {
		writeOpError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, l.keyObject(k))
}

package ledger

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/clawgate/clawgate/proxy"
)

// Error types, as LiteLLM's envelope names them.
const (
	typeInvalid  = "invalid_request_error"
	typeAuth     = "auth_error"
	typeNotFound = "not_found_error"
	typeServer   = "internal_server_error"
)

// route is one management endpoint.
type route struct {
	method string
	master bool // only the master key may call it
	serve  func(l *Ledger, w http.ResponseWriter, r *http.Request, p *proxy.Principal)
}

var routes = map[string]route{
	"/key/generate":        {http.MethodPost, true, (*Ledger).keyGenerate},
	"/key/info":            {http.MethodGet, false, (*Ledger).keyInfo},
	"/key/update":          {http.MethodPost, true, (*Ledger).keyUpdate},
	"/key/delete":          {http.MethodPost, true, (*Ledger).keyDelete},
	"/key/list":            {http.MethodGet, true, (*Ledger).keyList},
	"/key/regenerate":      {http.MethodPost, true, (*Ledger).keyRegenerate},
	"/key/block":           {http.MethodPost, true, (*Ledger).keyBlock},
	"/key/unblock":         {http.MethodPost, true, (*Ledger).keyUnblock},
	"/spend/logs":          {http.MethodGet, true, (*Ledger).spendLogs},
	"/spend/logs/ui":       {http.MethodGet, true, (*Ledger).spendLogsUI},
	"/global/spend":        {http.MethodGet, true, (*Ledger).globalSpend},
	"/global/spend/report": {http.MethodGet, true, (*Ledger).spendReport},
	"/user/daily/activity": {http.MethodGet, true, (*Ledger).dailyActivity},
}

// ServeAdmin implements proxy.Admin: LiteLLM's management API. Every route but /key/info needs
// the master key; a virtual key may read its own /key/info.
func (l *Ledger) ServeAdmin(w http.ResponseWriter, r *http.Request, p *proxy.Principal) {
	path := strings.TrimSuffix(r.URL.Path, "/")
	path = strings.TrimPrefix(path, "/v1")
	rt, ok := routes[path]
	name := path
	if !ok {
		// /key/{key}/regenerate: the key (or its hash) in the path.
		if k, found := strings.CutPrefix(path, "/key/"); found && strings.HasSuffix(k, "/regenerate") {
			k = strings.TrimSuffix(k, "/regenerate")
			if k != "" && !strings.Contains(k, "/") {
				rt = route{http.MethodPost, true, func(l *Ledger, w http.ResponseWriter, r *http.Request, p *proxy.Principal) {
					l.regenerate(w, r, k)
				}}
				ok, name = true, "/key/{key}/regenerate"
			}
		}
		// /spend/logs/ui/{request_id}: one row with its stored request and response.
		if id, found := strings.CutPrefix(path, "/spend/logs/ui/"); found && id != "" && !strings.Contains(id, "/") {
			rt = route{http.MethodGet, true, func(l *Ledger, w http.ResponseWriter, r *http.Request, p *proxy.Principal) {
				l.spendLog(w, r, id)
			}}
			ok, name = true, "/spend/logs/ui/{request_id}"
		}
	}
	if path == "/organization" || strings.HasPrefix(path, "/organization/") {
		// LiteLLM's organizations (a level above teams) are not modelled: say so, not "not found".
		proxy.WriteError(w, http.StatusNotImplemented, "not_implemented_error",
			fmt.Sprintf("%s %s is not supported by Clawgate: it has teams (/team/*) and users (/user/*), not organizations.",
				r.Method, r.URL.Path), 0, nil)
		return
	}
	if !ok {
		proxy.WriteError(w, http.StatusNotFound, typeNotFound,
			fmt.Sprintf("%s %s is not a management route Clawgate serves. It serves %s, /key/{key}/regenerate and /spend/logs/ui/{request_id}.",
				r.Method, r.URL.Path, strings.Join(slices.Sorted(maps.Keys(routes)), ", ")), 0, nil)
		return
	}
	if p == nil {
		p = &proxy.Principal{}
	}
	if rt.master && !p.Master {
		proxy.WriteError(w, http.StatusForbidden, typeAuth,
			fmt.Sprintf("Only the master key can call %s. A virtual key may only read its own /key/info.", name), 0, nil)
		return
	}
	if r.Method != rt.method {
		w.Header().Set("Allow", rt.method)
		proxy.WriteError(w, http.StatusMethodNotAllowed, typeInvalid,
			fmt.Sprintf("%s takes %s, not %s.", name, rt.method, r.Method), 0, nil)
		return
	}
	rt.serve(l, w, r, p)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		proxy.WriteError(w, http.StatusInternalServerError, typeServer, "could not encode the answer: "+err.Error(), 0, nil)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func badRequest(w http.ResponseWriter, format string, args ...any) {
	proxy.WriteError(w, http.StatusBadRequest, typeInvalid, fmt.Sprintf(format, args...), 0, nil)
}

func notFound(w http.ResponseWriter, msg string) {
	proxy.WriteError(w, http.StatusNotFound, typeNotFound, msg, 0, nil)
}

func serverError(w http.ResponseWriter, err error) {
	proxy.WriteError(w, http.StatusInternalServerError, typeServer, err.Error(), 0, nil)
}

// readBody decodes a JSON object body into dst and returns it raw too (for echoing); an empty
// body is {}. Type errors name the field.
func readBody(r *http.Request, dst any) (map[string]any, error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, fmt.Errorf("the request body is larger than %d bytes", tooBig.Limit)
		}
		return nil, fmt.Errorf("could not read the request body: %v", err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		b = []byte("{}")
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil || raw == nil {
		return nil, fmt.Errorf("the request body must be a JSON object: %v", jsonErr(err))
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return nil, jsonErr(err)
	}
	return raw, nil
}

func jsonErr(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		want := te.Type.String()
		switch {
		case strings.HasPrefix(want, "map"):
			want = "a JSON object"
		case strings.Contains(want, "int"):
			want = "a whole number"
		case strings.Contains(want, "float"):
			want = "a number"
		case strings.HasPrefix(want, "[]"):
			want = "a list of strings"
		case strings.Contains(want, "string"):
			want = "a string"
		case strings.Contains(want, "bool"):
			want = "true or false"
		}
		return fmt.Errorf("%s must be %s, not a JSON %s", te.Field, want, te.Value)
	}
	if err == nil {
		return errors.New("null")
	}
	return err
}

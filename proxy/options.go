package proxy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// callOptions are LiteLLM's per-request fields: routing and testing knobs the client puts in the
// body (and x-litellm-timeout), which the gateway acts on and the upstream never sees.
type callOptions struct {
	// fallbacks replaces router_settings.fallbacks when not nil; empty turns them off.
	fallbacks  []string
	numRetries *int
	timeout    time.Duration
	// mock is mock_response: the answer's text, given without calling the upstream.
	mock *string
}

// maxNumRetries bounds a client's num_retries: each retry is a real upstream call.
const maxNumRetries = 10

// optionKeys are the members takeOptions reads and removes.
var optionKeys = []string{"fallbacks", "disable_fallbacks", "num_retries", "timeout", "mock_response"}

// takeOptions returns body without LiteLLM's per-request members, and what they asked for. A
// body that names none of them (nearly all) is returned as is, without being decoded; one that
// does is re-encoded without them (member order may change, values are kept byte for byte).
func takeOptions(body []byte, h http.Header) ([]byte, callOptions, error) {
	var o callOptions
	if v := strings.TrimSpace(h.Get("X-Litellm-Timeout")); v != "" {
		d, err := seconds(v)
		if err != nil {
			return nil, o, fmt.Errorf("x-litellm-timeout: %w", err)
		}
		o.timeout = d
	}
	found := false
	for _, k := range optionKeys {
		if bytes.Contains(body, []byte(`"`+k+`"`)) {
			found = true
			break
		}
	}
	if !found {
		return body, o, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		return body, o, nil // not an object: the endpoint's own parser says what is wrong
	}
	present := false
	for _, k := range optionKeys {
		if _, ok := m[k]; ok {
			present = true
		}
	}
	if !present {
		return body, o, nil // the names were inside a value (a prompt), not members
	}
	if raw, ok := m["fallbacks"]; ok && !isNull(raw) {
		fb, err := parseFallbacks(raw)
		if err != nil {
			return nil, o, err
		}
		o.fallbacks = fb
	}
	if raw, ok := m["disable_fallbacks"]; ok && string(raw) == "true" {
		o.fallbacks = []string{}
	}
	if raw, ok := m["num_retries"]; ok && !isNull(raw) {
		var n int
		if json.Unmarshal(raw, &n) != nil || n < 0 {
			return nil, o, errors.New("num_retries must be a whole number, 0 or more")
		}
		n = min(n, maxNumRetries)
		o.numRetries = &n
	}
	if raw, ok := m["timeout"]; ok && !isNull(raw) {
		d, err := seconds(string(bytes.Trim(raw, `"`)))
		if err != nil {
			return nil, o, fmt.Errorf("timeout: %w", err)
		}
		o.timeout = d
	}
	if raw, ok := m["mock_response"]; ok && !isNull(raw) {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, o, errors.New("mock_response must be a string: the text of the mocked answer")
		}
		o.mock = &s
	}
	for _, k := range optionKeys {
		delete(m, k)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, o, fmt.Errorf("invalid request body: %w", err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), o, nil
}

// parseFallbacks reads the body's "fallbacks": a list of model names, or LiteLLM's list of
// {"model": ["fallback", ...]} objects, whose lists are taken in order.
func parseFallbacks(raw json.RawMessage) ([]string, error) {
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		return nil, errors.New(`fallbacks must be a list of model names, e.g. "fallbacks": ["gpt-4o-mini"]`)
	}
	out := []string{}
	for _, it := range items {
		var name string
		if json.Unmarshal(it, &name) == nil {
			out = append(out, name)
			continue
		}
		var byModel map[string][]string
		if json.Unmarshal(it, &byModel) != nil {
			return nil, errors.New(`fallbacks must be a list of model names, e.g. "fallbacks": ["gpt-4o-mini"]`)
		}
		for _, k := range slices.Sorted(maps.Keys(byModel)) { // one key in practice; sorted, so the order is fixed
			out = append(out, byModel[k]...)
		}
	}
	return out, nil
}

// seconds reads a positive number of seconds.
func seconds(v string) (time.Duration, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || !(f > 0) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%q is not a positive number of seconds", v)
	}
	if f > 24*3600 {
		f = 24 * 3600
	}
	return time.Duration(f * float64(time.Second)), nil
}

func isNull(raw json.RawMessage) bool { return string(raw) == "null" }

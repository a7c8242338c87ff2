package ledger

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/clawgate/clawgate/app/store"
	"github.com/clawgate/clawgate/proxy"
)

// logRow is one spend log as LiteLLM's LiteLLM_SpendLogs serialises it (its column names).
type logRow struct {
	RequestID           string         `json:"request_id"`
	CallType            string         `json:"call_type"`
	APIKey              string         `json:"api_key"`
	Spend               float64        `json:"spend"`
	TotalTokens         int64          `json:"total_tokens"`
	PromptTokens        int64          `json:"prompt_tokens"`
	CompletionTokens    int64          `json:"completion_tokens"`
	StartTime           time.Time      `json:"startTime"`
	EndTime             time.Time      `json:"endTime"`
	CompletionStartTime *time.Time     `json:"completionStartTime"`
	RequestDurationMS   int64          `json:"request_duration_ms"`
	Model               string         `json:"model"`
	ModelID             string         `json:"model_id"`
	ModelGroup          string         `json:"model_group"`
	CustomLLMProvider   string         `json:"custom_llm_provider"`
	APIBase             string         `json:"api_base"`
	User                string         `json:"user"`
	EndUser             string         `json:"end_user"`
	Metadata            map[string]any `json:"metadata"`
	CacheHit            string         `json:"cache_hit"`
	CacheKey            string         `json:"cache_key"`
	RequestTags         []string       `json:"request_tags"`
	TeamID              *string        `json:"team_id"`
	OrganizationID      *string        `json:"organization_id"`
	RequesterIPAddress  *string        `json:"requester_ip_address"`
	SessionID           *string        `json:"session_id"`
	Messages            any            `json:"messages"`
	Response            any            `json:"response"`
	ProxyServerRequest  any            `json:"proxy_server_request"`
	Status              string         `json:"status"`
}

func toRow(s store.SpendLog) logRow {
	r := logRow{RequestID: s.RequestID, CallType: s.CallType, APIKey: s.APIKey, Spend: s.Spend,
		TotalTokens: s.TotalTokens, PromptTokens: s.PromptTokens, CompletionTokens: s.CompletionTokens,
		StartTime: s.StartTime.UTC(), EndTime: s.EndTime.UTC(), RequestDurationMS: s.EndTime.Sub(s.StartTime).Milliseconds(),
		Model: s.Model, ModelID: s.ModelID, ModelGroup: s.ModelGroup, CustomLLMProvider: s.Provider, APIBase: s.APIBase,
		User: s.User, EndUser: s.EndUser, CacheHit: "False", Status: s.Status,
		Messages: map[string]any{}, Response: map[string]any{}, ProxyServerRequest: map[string]any{}}
	r.RequestTags = tagsOf(s.Metadata["tags"])
	if s.CompletionStartTime != nil {
		t := s.CompletionStartTime.UTC()
		r.CompletionStartTime = &t
	}
	if s.Messages != nil {
		r.Messages = json.RawMessage(s.Messages)
	}
	if s.Response != nil {
		r.Response = json.RawMessage(s.Response)
	}
	md := make(map[string]any, len(s.Metadata)+12)
	for k, v := range s.Metadata {
		md[k] = v
	}
	md["user_api_key"] = s.APIKey
	md["user_api_key_alias"] = nilIfEmpty(s.KeyAlias)
	md["user_api_key_user_id"] = nilIfEmpty(s.User)
	md["user_api_key_team_id"] = nilIfEmpty(s.TeamID)
	r.TeamID = nilIfEmpty(s.TeamID)
	md["status"] = s.Status
	md["attempted_retries"] = s.Retries
	md["attempted_fallbacks"] = s.Fallbacks
	md["unpriced"] = s.Unpriced
	if s.ResponseID != "" {
		md["response_id"] = s.ResponseID // the upstream's id; request_id is the gateway's call id
	}
	md["usage_object"] = map[string]any{
		"prompt_tokens":               s.PromptTokens,
		"completion_tokens":           s.CompletionTokens,
		"total_tokens":                s.TotalTokens,
		"cache_read_input_tokens":     s.CacheReadTokens,
		"cache_creation_input_tokens": s.CacheWriteTokens,
		"prompt_tokens_details":       map[string]any{"cached_tokens": s.CacheReadTokens, "cache_creation_tokens": s.CacheWriteTokens},
		"completion_tokens_details":   map[string]any{"reasoning_tokens": s.ReasoningTokens},
	}
	if s.Status == store.StatusFailure {
		code := ""
		if c, ok := s.Metadata["status_code"].(float64); ok {
			code = strconv.Itoa(int(c))
		}
		md["error_information"] = map[string]any{"error_message": s.Error, "error_code": code}
	}
	r.Metadata = md
	return r
}

// tagsOf reads the request tags a row's metadata holds ([]any once read back from the store).
func tagsOf(v any) []string {
	out := []string{}
	switch t := v.(type) {
	case []string:
		out = append(out, t...)
	case []any:
		for _, x := range t {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

// spendLogs serves GET /spend/logs as LiteLLM does. With start_date and end_date (YYYY-MM-DD)
// and summarize=true (the default), it answers per-day aggregates; otherwise the raw rows, newest
// first. Without dates the filters (api_key, request_id, user_id) pick rows and summarize is
// ignored, so the bare call answers every row. api_key may be the sk- key or its hash. Unlike
// LiteLLM (which stops at midnight), end_date counts whole.
func (l *Ledger) spendLogs(w http.ResponseWriter, r *http.Request, _ *proxy.Principal) {
	q := r.URL.Query()
	summarize := true
	if v := q.Get("summarize"); v != "" {
		var err error
		if summarize, err = strconv.ParseBool(v); err != nil {
			badRequest(w, "summarize must be true or false, got %q", v)
			return
		}
	}
	// A lookup by request_id is one call (or a few): its stored messages and response come with it.
	sq := store.SpendQuery{RequestID: q.Get("request_id"), UserID: q.Get("user_id"), TeamID: q.Get("team_id"), IncludeBodies: q.Get("request_id") != ""}
	if k := q.Get("api_key"); k != "" {
		sq.APIKey = tokenOf(k)
	}
	sd, ed := q.Get("start_date"), q.Get("end_date")
	if (sd == "") != (ed == "") {
		badRequest(w, "start_date and end_date go together (YYYY-MM-DD); leave both out for every row.")
		return
	}
	if sd != "" {
		start, err1 := time.Parse(time.DateOnly, sd)
		end, err2 := time.Parse(time.DateOnly, ed)
		if err1 != nil || err2 != nil {
			badRequest(w, "start_date and end_date must be dates as YYYY-MM-DD, such as 2026-01-31.")
			return
		}
		if end.Before(start) {
			badRequest(w, "end_date is before start_date.")
			return
		}
		stop := end.AddDate(0, 0, 1)
		sq.Start, sq.End = &start, &stop
		if summarize {
			l.spendSummary(w, r, sq, start, end)
			return
		}
	}
	rows, _, err := l.st.QuerySpendLogs(r.Context(), sq)
	if err != nil {
		serverError(w, err)
		return
	}
	out := make([]logRow, len(rows))
	for i, s := range rows {
		out[i] = toRow(s)
	}
	writeJSON(w, http.StatusOK, out)
}

// spendSummary answers LiteLLM's legacy per-day shape: [{"startTime": "2026-01-02", "spend": x,
// "<api key hash>": x, "users": {user: x}, "models": {model: x}}], days in UTC, and days after
// the last one with spend filled with zeros up to end_date, as LiteLLM does.
func (l *Ledger) spendSummary(w http.ResponseWriter, r *http.Request, sq store.SpendQuery, start, end time.Time) {
	type day = map[string]any
	days := map[string]day{}
	add := func(date, apiKey, user, model string, spend float64) {
		d := days[date]
		if d == nil {
			d = day{"startTime": date, "spend": 0.0, "users": map[string]float64{}, "models": map[string]float64{}}
			days[date] = d
		}
		d["spend"] = d["spend"].(float64) + spend
		v, _ := d[apiKey].(float64)
		d[apiKey] = v + spend
		d["users"].(map[string]float64)[user] += spend
		d["models"].(map[string]float64)[model] += spend
	}
	if sq.RequestID != "" {
		// The aggregate query has no request filter; one request is one row anyway.
		rows, _, err := l.st.QuerySpendLogs(r.Context(), sq)
		if err != nil {
			serverError(w, err)
			return
		}
		for _, s := range rows {
			add(s.StartTime.UTC().Format(time.DateOnly), s.APIKey, s.User, s.Model, s.Spend)
		}
	} else {
		groups, err := l.st.SpendSummary(r.Context(), store.SummaryQuery{Start: *sq.Start, End: *sq.End,
			By: store.ByDay | store.ByKey | store.ByUser | store.ByModel, APIKey: sq.APIKey, UserID: sq.UserID, TeamID: sq.TeamID})
		if err != nil {
			serverError(w, err)
			return
		}
		for _, g := range groups {
			add(g.Day, g.APIKey, g.User, g.Model, g.Spend)
		}
	}
	out := make([]day, 0, len(days))
	for _, d := range days {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i]["startTime"].(string) < out[j]["startTime"].(string) })
	if n := len(out); n > 0 {
		last, _ := time.Parse(time.DateOnly, out[n-1]["startTime"].(string))
		for d := last.AddDate(0, 0, 1); !d.After(end); d = d.AddDate(0, 0, 1) {
			out = append(out, day{"startTime": d.Format(time.DateOnly), "spend": 0.0, "users": map[string]float64{}, "models": map[string]float64{}})
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// spendLog serves GET /spend/logs/ui/{request_id}: the row with its stored messages and response
// ({} when store_prompts_in_spend_logs was off), found by the call id or the upstream's id.
func (l *Ledger) spendLog(w http.ResponseWriter, r *http.Request, id string) {
	rows, _, err := l.st.QuerySpendLogs(r.Context(), store.SpendQuery{RequestID: id, PageSize: 1, IncludeBodies: true})
	if err != nil {
		serverError(w, err)
		return
	}
	if len(rows) == 0 {
		proxy.WriteError(w, http.StatusNotFound, typeNotFound, fmt.Sprintf("No spend log with request_id %q.", id), 0, nil)
		return
	}
	writeJSON(w, http.StatusOK, toRow(rows[0]))
}

// uiTime is the /spend/logs/ui date format (UTC).
const uiTime = "2006-01-02 15:04:05"

// spendLogsUI serves GET /spend/logs/ui: start_date and end_date ("YYYY-MM-DD HH:MM:SS", UTC,
// both required, end inclusive), page, page_size (default 50, at most 100) and the filters
// api_key, user_id, request_id, model, key_alias, end_user, status_filter, min_spend, max_spend
// -> {"data", "total", "page", "page_size", "total_pages"}, newest first.
func (l *Ledger) spendLogsUI(w http.ResponseWriter, r *http.Request, _ *proxy.Principal) {
	q := r.URL.Query()
	start, err1 := parseUITime(q.Get("start_date"))
	end, err2 := parseUITime(q.Get("end_date"))
	if err1 != nil || err2 != nil {
		badRequest(w, `start_date and end_date are required, as "YYYY-MM-DD HH:MM:SS" in UTC (a date alone is read as midnight).`)
		return
	}
	page, err := intParam(q.Get("page"), 1, 1, math.MaxInt32)
	if err != nil {
		badRequest(w, "page: %v", err)
		return
	}
	size, err := intParam(q.Get("page_size"), 50, 1, 100)
	if err != nil {
		badRequest(w, "page_size: %v", err)
		return
	}
	stop := end.Add(time.Microsecond) // inclusive, at the store's resolution
	sq := store.SpendQuery{Start: &start, End: &stop, Page: page, PageSize: size, UserID: q.Get("user_id"),
		RequestID: q.Get("request_id"), Model: q.Get("model"), KeyAlias: q.Get("key_alias"), EndUser: q.Get("end_user"), TeamID: q.Get("team_id"),
		Status: q.Get("status_filter")}
	if k := q.Get("api_key"); k != "" {
		sq.APIKey = tokenOf(k)
	}
	for name, dst := range map[string]**float64{"min_spend": &sq.MinSpend, "max_spend": &sq.MaxSpend} {
		if v := q.Get(name); v != "" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				badRequest(w, "%s must be a number, got %q", name, v)
				return
			}
			*dst = &f
		}
	}
	rows, total, err := l.st.QuerySpendLogs(r.Context(), sq)
	if err != nil {
		serverError(w, err)
		return
	}
	data := make([]logRow, len(rows))
	for i, s := range rows {
		data[i] = toRow(s)
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "total": total, "page": page, "page_size": size,
		"total_pages": (total + size - 1) / size})
}

func parseUITime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(uiTime, s); err == nil {
		return t, nil
	}
	return time.Parse(time.DateOnly, s)
}

// globalSpend serves GET /global/spend: {"spend": the proxy-wide budget window's spend,
// "max_budget": litellm_settings.max_budget or null}.
func (l *Ledger) globalSpend(w http.ResponseWriter, r *http.Request, _ *proxy.Principal) {
	spend, limit, _ := l.GlobalSpend()
	writeJSON(w, http.StatusOK, map[string]any{"spend": spend, "max_budget": limit})
}

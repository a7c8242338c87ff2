package ledger

import (
	"math"
	"net/http"
	"net/url"
	"sort"
	"time"

	"github.com/clawgate/clawgate/app/store"
	"github.com/clawgate/clawgate/proxy"
)

// spendMetrics is LiteLLM's SpendMetrics.
type spendMetrics struct {
	Spend                    float64 `json:"spend"`
	PromptTokens             int64   `json:"prompt_tokens"`
	CompletionTokens         int64   `json:"completion_tokens"`
	CacheReadInputTokens     int64   `json:"cache_read_input_tokens"`
	CacheCreationInputTokens int64   `json:"cache_creation_input_tokens"`
	TotalTokens              int64   `json:"total_tokens"`
	SuccessfulRequests       int64   `json:"successful_requests"`
	FailedRequests           int64   `json:"failed_requests"`
	APIRequests              int64   `json:"api_requests"`
}

func (m *spendMetrics) add(g store.SpendGroup) {
	m.Spend += g.Spend
	m.PromptTokens += g.PromptTokens
	m.CompletionTokens += g.CompletionTokens
	m.CacheReadInputTokens += g.CacheReadTokens
	m.CacheCreationInputTokens += g.CacheWriteTokens
	m.TotalTokens += g.TotalTokens
	m.SuccessfulRequests += g.Requests - g.Failures
	m.FailedRequests += g.Failures
	m.APIRequests += g.Requests
}

type keyMetadata struct {
	KeyAlias *string `json:"key_alias"`
	TeamID   *string `json:"team_id"`
}

type keyMetric struct {
	Metrics  spendMetrics `json:"metrics"`
	Metadata keyMetadata  `json:"metadata"`
}

type metric struct {
	Metrics         spendMetrics          `json:"metrics"`
	Metadata        map[string]any        `json:"metadata"`
	APIKeyBreakdown map[string]*keyMetric `json:"api_key_breakdown"`
}

type breakdown struct {
	MCPServers  map[string]*metric    `json:"mcp_servers"`
	Models      map[string]*metric    `json:"models"`
	ModelGroups map[string]*metric    `json:"model_groups"`
	Providers   map[string]*metric    `json:"providers"`
	Endpoints   map[string]*metric    `json:"endpoints"`
	APIKeys     map[string]*keyMetric `json:"api_keys"`
	Entities    map[string]*metric    `json:"entities"`
}

type dailyData struct {
	Date      string       `json:"date"`
	Metrics   spendMetrics `json:"metrics"`
	Breakdown breakdown    `json:"breakdown"`
}

type dailyMetadata struct {
	TotalSpend                    float64 `json:"total_spend"`
	TotalPromptTokens             int64   `json:"total_prompt_tokens"`
	TotalCompletionTokens         int64   `json:"total_completion_tokens"`
	TotalTokens                   int64   `json:"total_tokens"`
	TotalAPIRequests              int64   `json:"total_api_requests"`
	TotalSuccessfulRequests       int64   `json:"total_successful_requests"`
	TotalFailedRequests           int64   `json:"total_failed_requests"`
	TotalCacheReadInputTokens     int64   `json:"total_cache_read_input_tokens"`
	TotalCacheCreationInputTokens int64   `json:"total_cache_creation_input_tokens"`
	Page                          int     `json:"page"`
	TotalPages                    int     `json:"total_pages"`
	HasMore                       bool    `json:"has_more"`
}

// dailyActivity serves GET /user/daily/activity (start_date, end_date as YYYY-MM-DD, both
// required and inclusive; model, api_key, page, page_size) in LiteLLM's
// SpendAnalyticsPaginatedResponse shape: one result per day with spend, tokens and requests,
// broken down by model (the model group clients call), provider and key. Days follow
// litellm_settings.timezone (UTC by default).
func (l *Ledger) dailyActivity(w http.ResponseWriter, r *http.Request, _ *proxy.Principal) {
	l.activity(w, r, l.userEntities(r.URL.Query()))
}

// activity answers a daily activity view; ent says which entity (user, team) it is about.
func (l *Ledger) activity(w http.ResponseWriter, r *http.Request, ent entities) {
	q := r.URL.Query()
	start, end, ok := l.dateRange(w, q)
	if !ok {
		return
	}
	page, err := intParam(q.Get("page"), 1, 1, math.MaxInt32)
	if err != nil {
		badRequest(w, "page: %v", err)
		return
	}
	size, err := intParam(q.Get("page_size"), 50, 1, 1000)
	if err != nil {
		badRequest(w, "page_size: %v", err)
		return
	}
	sq := store.SummaryQuery{Start: start, End: end, By: store.ByDay | store.ByModel | store.ByKey | store.ByProvider | ent.by,
		Location: l.loc, UserID: ent.userID, TeamID: ent.teamID}
	if k := q.Get("api_key"); k != "" {
		sq.APIKey = tokenOf(k)
	}
	groups, err := l.st.SpendSummary(r.Context(), sq)
	if err != nil {
		serverError(w, err)
		return
	}
	model := q.Get("model")
	byDay := map[string]*dailyData{}
	var meta dailyMetadata
	var total spendMetrics
	for _, g := range groups {
		if model != "" && g.Model != model || !ent.keep(g) {
			continue
		}
		d := byDay[g.Day]
		if d == nil {
			d = &dailyData{Date: g.Day, Breakdown: breakdown{MCPServers: map[string]*metric{}, Models: map[string]*metric{},
				ModelGroups: map[string]*metric{}, Providers: map[string]*metric{}, Endpoints: map[string]*metric{},
				APIKeys: map[string]*keyMetric{}, Entities: map[string]*metric{}}}
			byDay[g.Day] = d
		}
		d.Metrics.add(g)
		total.add(g)
		for _, m := range []struct {
			into map[string]*metric
			name string
		}{{d.Breakdown.Models, g.Model}, {d.Breakdown.Providers, g.Provider}} {
			x := m.into[m.name]
			if x == nil {
				x = &metric{Metadata: map[string]any{}, APIKeyBreakdown: map[string]*keyMetric{}}
				m.into[m.name] = x
			}
			x.Metrics.add(g)
			km := x.APIKeyBreakdown[g.APIKey]
			if km == nil {
				km = &keyMetric{Metadata: keyMetadata{KeyAlias: nilIfEmpty(g.KeyAlias)}}
				x.APIKeyBreakdown[g.APIKey] = km
			}
			km.Metrics.add(g)
		}
		ent.add(d.Breakdown.Entities, g)
		km := d.Breakdown.APIKeys[g.APIKey]
		if km == nil {
			km = &keyMetric{Metadata: keyMetadata{KeyAlias: nilIfEmpty(g.KeyAlias)}}
			d.Breakdown.APIKeys[g.APIKey] = km
		}
		km.Metrics.add(g)
	}
	days := make([]*dailyData, 0, len(byDay))
	for _, d := range byDay {
		days = append(days, d)
	}
	sort.Slice(days, func(i, j int) bool { return days[i].Date < days[j].Date })
	meta = dailyMetadata{TotalSpend: total.Spend, TotalPromptTokens: total.PromptTokens, TotalCompletionTokens: total.CompletionTokens,
		TotalTokens: total.TotalTokens, TotalAPIRequests: total.APIRequests, TotalSuccessfulRequests: total.SuccessfulRequests,
		TotalFailedRequests: total.FailedRequests, TotalCacheReadInputTokens: total.CacheReadInputTokens,
		TotalCacheCreationInputTokens: total.CacheCreationInputTokens, Page: page, TotalPages: max(1, (len(days)+size-1)/size)}
	from := min((page-1)*size, len(days))
	to := min(from+size, len(days))
	meta.HasMore = to < len(days)
	writeJSON(w, http.StatusOK, map[string]any{"results": days[from:to], "metadata": meta})
}

// dateRange reads start_date and end_date (YYYY-MM-DD, both required, inclusive) as the range
// [start of start_date, start of the day after end_date) in the ledger's time zone.
func (l *Ledger) dateRange(w http.ResponseWriter, q url.Values) (start, end time.Time, ok bool) {
	sd, ed := q.Get("start_date"), q.Get("end_date")
	if sd == "" || ed == "" {
		badRequest(w, "Please provide start_date and end_date (YYYY-MM-DD).")
		return start, end, false
	}
	s, err1 := time.ParseInLocation(time.DateOnly, sd, l.loc)
	e, err2 := time.ParseInLocation(time.DateOnly, ed, l.loc)
	if err1 != nil || err2 != nil {
		badRequest(w, "start_date and end_date must be dates as YYYY-MM-DD, such as 2026-01-31.")
		return start, end, false
	}
	if e.Before(s) {
		badRequest(w, "end_date is before start_date.")
		return start, end, false
	}
	y, m, d := e.Date()
	return s, time.Date(y, m, d+1, 0, 0, 0, 0, l.loc), true
}

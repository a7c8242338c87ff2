package ledger

import (
	"net/http"
	"time"

	"github.com/clawgate/clawgate/app/store"
	"github.com/clawgate/clawgate/proxy"
)

// reportLine is one (key, model) line of a day in LiteLLM's spend report.
type reportLine struct {
	Model       string  `json:"model"`
	Spend       float64 `json:"spend"`
	TotalTokens int64   `json:"total_tokens"`
	APIKey      string  `json:"api_key"` // the key's hash
}

type reportTeam struct {
	TeamName   *string      `json:"team_name"`
	TotalSpend float64      `json:"total_spend"`
	Metadata   []reportLine `json:"metadata"`
}

type reportModel struct {
	Model             string  `json:"model"`
	TotalCost         float64 `json:"total_cost"`
	TotalInputTokens  int64   `json:"total_input_tokens"`
	TotalOutputTokens int64   `json:"total_output_tokens"`
}

type reportKey struct {
	APIKey            string        `json:"api_key"`
	TotalCost         float64       `json:"total_cost"`
	TotalInputTokens  int64         `json:"total_input_tokens"`
	TotalOutputTokens int64         `json:"total_output_tokens"`
	ModelDetails      []reportModel `json:"model_details"`
}

type reportDay struct {
	GroupByDay string        `json:"group_by_day"`
	Teams      []*reportTeam `json:"teams,omitempty"`
	APIKeys    []*reportKey  `json:"api_keys,omitempty"`
}

// spendReport serves GET /global/spend/report (start_date, end_date as YYYY-MM-DD, inclusive;
// group_by team, the default, or api_key; api_key and internal_user_id narrow it) in LiteLLM's
// shape: one entry per day, "group_by_day" at that day's midnight, with the spend per (key,
// model), per team (team_name is its alias, else its id; keys of no team under a null name). LiteLLM's customer
// grouping (by the request's end user) is not kept by the store and is refused.
func (l *Ledger) spendReport(w http.ResponseWriter, r *http.Request, _ *proxy.Principal) {
	q := r.URL.Query()
	start, end, ok := l.dateRange(w, q)
	if !ok {
		return
	}
	by := q.Get("group_by")
	switch by {
	case "", "team", "api_key":
	case "customer":
		badRequest(w, "group_by=customer is not served: Clawgate's spend summary does not group by end user; use group_by=team or api_key.")
		return
	default:
		badRequest(w, "group_by must be team, customer or api_key, not %q.", by)
		return
	}
	sq := store.SummaryQuery{Start: start, End: end, By: store.ByDay | store.ByModel | store.ByKey | store.ByTeam, Location: l.loc,
		UserID: q.Get("internal_user_id")}
	if k := q.Get("api_key"); k != "" {
		sq.APIKey = tokenOf(k)
	}
	groups, err := l.st.SpendSummary(r.Context(), sq)
	if err != nil {
		serverError(w, err)
		return
	}
	out := []*reportDay{}
	var day *reportDay
	keys := map[string]*reportKey{}
	teams := map[string]*reportTeam{}
	for _, g := range groups {
		if day == nil || day.GroupByDay[:10] != g.Day {
			t, _ := time.ParseInLocation(time.DateOnly, g.Day, l.loc)
			day = &reportDay{GroupByDay: t.Format("2006-01-02T15:04:05-07:00")}
			out = append(out, day)
			keys = map[string]*reportKey{}
			teams = map[string]*reportTeam{}
		}
		if by == "api_key" {
			k := keys[g.APIKey]
			if k == nil {
				k = &reportKey{APIKey: g.APIKey, ModelDetails: []reportModel{}}
				keys[g.APIKey] = k
				day.APIKeys = append(day.APIKeys, k)
			}
			k.TotalCost += g.Spend
			k.TotalInputTokens += g.PromptTokens
			k.TotalOutputTokens += g.CompletionTokens
			k.ModelDetails = append(k.ModelDetails, reportModel{Model: g.Model, TotalCost: g.Spend,
				TotalInputTokens: g.PromptTokens, TotalOutputTokens: g.CompletionTokens})
			continue
		}
		t := teams[g.TeamID]
		if t == nil {
			t = &reportTeam{TeamName: l.teamName(g.TeamID), Metadata: []reportLine{}}
			teams[g.TeamID] = t
			day.Teams = append(day.Teams, t)
		}
		t.TotalSpend += g.Spend
		t.Metadata = append(t.Metadata, reportLine{Model: g.Model, Spend: g.Spend, TotalTokens: g.TotalTokens, APIKey: g.APIKey})
	}
	writeJSON(w, http.StatusOK, out)
}

// teamName is a team as the spend report names it: its alias, else its id; nil for no team.
func (l *Ledger) teamName(id string) *string {
	if id == "" {
		return nil
	}
	if t, ok := l.team(id); ok && t.TeamAlias != "" {
		return &t.TeamAlias
	}
	return &id
}

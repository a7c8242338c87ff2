package ledger

import (
	"net/url"
	"slices"
	"strings"

	"github.com/clawgate/clawgate/app/store"
)

// entities is what a daily activity view is about: LiteLLM's /user/daily/activity narrows to a
// user_id and /team/daily/activity to team_ids, and each day's breakdown "entities" holds the
// metrics per user or per team.
type entities struct {
	by     store.GroupBy
	userID string   // one user, or all
	teamID string   // one team (store filter), or
	teams  []string // several (kept here)
	name   func(store.SpendGroup) string
	meta   func(id string) map[string]any
}

func (l *Ledger) userEntities(q url.Values) entities {
	return entities{by: store.ByUser, userID: strings.TrimSpace(q.Get("user_id")),
		name: func(g store.SpendGroup) string { return g.User },
		meta: func(id string) map[string]any {
			u, _ := l.user(id)
			return map[string]any{"user_alias": nilIfEmpty(u.UserAlias), "user_email": nilIfEmpty(u.UserEmail)}
		}}
}

func (l *Ledger) teamEntities(q url.Values) entities {
	e := entities{by: store.ByTeam, name: func(g store.SpendGroup) string { return g.TeamID },
		meta: func(id string) map[string]any {
			t, _ := l.team(id)
			return map[string]any{"team_alias": nilIfEmpty(t.TeamAlias)}
		}}
	for _, id := range strings.Split(q.Get("team_ids"), ",") {
		if id = strings.TrimSpace(id); id != "" {
			e.teams = append(e.teams, id)
		}
	}
	if len(e.teams) == 1 {
		e.teamID = e.teams[0]
	}
	return e
}

// keep says whether a group counts: in a team view, only the teams asked for (every team's
// requests when none were named, and never rows of no team).
func (e entities) keep(g store.SpendGroup) bool {
	if e.by != store.ByTeam {
		return true
	}
	if len(e.teams) > 0 {
		return slices.Contains(e.teams, g.TeamID)
	}
	return g.TeamID != ""
}

// add counts g in its entity's metrics (and its key's within it).
func (e entities) add(into map[string]*metric, g store.SpendGroup) {
	id := e.name(g)
	if id == "" {
		return
	}
	m := into[id]
	if m == nil {
		m = &metric{Metadata: e.meta(id), APIKeyBreakdown: map[string]*keyMetric{}}
		into[id] = m
	}
	m.Metrics.add(g)
	km := m.APIKeyBreakdown[g.APIKey]
	if km == nil {
		km = &keyMetric{Metadata: keyMetadata{KeyAlias: nilIfEmpty(g.KeyAlias), TeamID: nilIfEmpty(g.TeamID)}}
		m.APIKeyBreakdown[g.APIKey] = km
	}
	km.Metrics.add(g)
}

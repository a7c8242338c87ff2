package app

import (
	"context"
	"sort"
	"time"

	"github.com/clawgate/clawgate/app/store"
)

// OverviewDays is how many days the Overview's chart covers.
const OverviewDays = 30

// overviewModels is how many models the chart names; the rest are summed as "other".
const overviewModels = 6

// Overview is spend over time for the Overview tab.
type Overview struct {
	Today, Week, Month Tally
	// Models name the chart's series, the biggest spender first; the last may be "other".
	Models []string
	// Days are the last OverviewDays local days, oldest first, every day present.
	Days []DaySpend
	// Requests and Failures count the requests over those days.
	Requests, Failures int64
	// TopKeys are the keys that spent most over those days, biggest first (at most 5).
	TopKeys []NamedSpend
}

// DaySpend is one day of the chart: spend per model, in Overview.Models' order.
type DaySpend struct {
	Day     time.Time
	ByModel []float64
	Total   float64
}

// NamedSpend is a key's (or model's) spend over the chart's days.
type NamedSpend struct {
	Name  string
	Spend float64
}

// Overview sums the spend log by day, model and key. It queries SQLite: off the UI goroutine.
func (a *App) Overview(ctx context.Context) (Overview, error) {
	st, err := a.flushedStore(ctx)
	if err != nil {
		return Overview{}, err
	}
	now := time.Now()
	loc := now.Location()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	first := today.AddDate(0, 0, -(OverviewDays - 1))
	var out Overview

	groups, err := st.SpendSummary(ctx, store.SummaryQuery{Start: first, By: store.ByDay | store.ByModel, Location: loc})
	if err != nil {
		return Overview{}, err
	}
	total := map[string]float64{}
	for _, g := range groups {
		total[g.Model] += g.Spend
		out.Requests += g.Requests
		out.Failures += g.Failures
	}
	models := make([]string, 0, len(total))
	for m := range total {
		models = append(models, m)
	}
	sort.Slice(models, func(i, j int) bool {
		if total[models[i]] != total[models[j]] {
			return total[models[i]] > total[models[j]]
		}
		return models[i] < models[j]
	})
	series := map[string]int{}
	for i, m := range models {
		if i < overviewModels {
			series[m] = i
			out.Models = append(out.Models, m)
		} else {
			series[m] = overviewModels
		}
	}
	if len(models) > overviewModels {
		out.Models = append(out.Models, "other")
	}
	byDay := map[string]int{}
	for i := range OverviewDays {
		d := first.AddDate(0, 0, i)
		byDay[d.Format("2006-01-02")] = i
		out.Days = append(out.Days, DaySpend{Day: d, ByModel: make([]float64, len(out.Models))})
	}
	week := today.AddDate(0, 0, -int((today.Weekday()+6)%7)) // Monday
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, loc)
	for _, g := range groups {
		i, ok := byDay[g.Day]
		if !ok {
			continue
		}
		d := &out.Days[i]
		d.ByModel[series[g.Model]] += g.Spend
		d.Total += g.Spend
	}
	for _, d := range out.Days {
		n := int64(0)
		for _, g := range groups {
			if g.Day == d.Day.Format("2006-01-02") {
				n += g.Requests
			}
		}
		add := func(t *Tally) { t.Spend += d.Total; t.Requests += int(n) }
		if !d.Day.Before(today) {
			add(&out.Today)
		}
		if !d.Day.Before(week) {
			add(&out.Week)
		}
		if !d.Day.Before(month) {
			add(&out.Month)
		}
	}
	if month.Before(first) { // a 31-day month: its first day is older than the chart
		if out.Month, err = tally(ctx, st, month); err != nil {
			return Overview{}, err
		}
	}

	keys, err := st.SpendSummary(ctx, store.SummaryQuery{Start: first, By: store.ByKey, Location: loc})
	if err != nil {
		return Overview{}, err
	}
	for _, k := range keys {
		name := k.KeyAlias
		if name == "" {
			name = "(no alias)" // the master key, or a key minted without one
		}
		out.TopKeys = append(out.TopKeys, NamedSpend{name, k.Spend})
	}
	sort.SliceStable(out.TopKeys, func(i, j int) bool { return out.TopKeys[i].Spend > out.TopKeys[j].Spend })
	if len(out.TopKeys) > 5 {
		out.TopKeys = out.TopKeys[:5]
	}
	return out, nil
}

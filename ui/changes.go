package ui

import (
	"time"

	"github.com/clawgate/clawgate/app"
)

// redrawEvery bounds how often change events redraw an open window: at most two reads a second
// however many requests arrive, the first one of a quiet spell at once.
const redrawEvery = 500 * time.Millisecond

// changeService announces what changed (*app.App implements it): each recorded request.
type changeService interface {
	SubscribeChanges() (<-chan app.Event, func())
}

// enableChanges makes the window read on change events while it is open, instead of on a timer.
func (rw *activityWindow) enableChanges(svc changeService) { rw.changes = svc }

// follow re-reads on each change (throttled) until stop is closed, then unsubscribes. It runs
// off the Fyne goroutine; the reads are started on it.
func (rw *activityWindow) follow(stop <-chan struct{}) {
	events, unsubscribe := rw.changes.SubscribeChanges()
	rw.jobs.Add(1)
	go func() {
		defer rw.jobs.Done()
		defer unsubscribe()
		coalesce(events, stop, redrawEvery, func(app.Status) {
			if rw.closed.Load() {
				return
			}
			onUI(func() {
				if !rw.closed.Load() && rw.visible {
					rw.refresh()
				}
			})
		}, nil)
	}()
}

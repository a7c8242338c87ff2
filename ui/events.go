package ui

import (
	"time"

	"github.com/clawgate/clawgate/app"
)

// refreshEvery bounds how often the tray is rebuilt: Fyne rebuilds the whole D-Bus menu on each
// SetSystemTrayMenu, so a burst of events must become one or two redraws, not one per request.
const refreshEvery = 250 * time.Millisecond

// coalesce reads events until in is closed or done is closed and calls apply with the latest status,
// at most once per interval: the first event of a quiet spell is applied at once, the rest of a burst
// is folded into one trailing call carrying the newest status. Alerts (budget thresholds) are rare
// and each one matters: they go to alert at once, unthrottled (alert may be nil).
func coalesce(in <-chan app.Event, done <-chan struct{}, interval time.Duration, apply func(app.Status), alert func(app.Alert)) {
	coalesceOn(wallClock{}, in, done, interval, apply, alert)
}

// clock is where coalesce reads the time and waits; tests pass one they move by hand, so that
// what is folded into a trailing call does not depend on how fast the sender runs.
type clock interface {
	Now() time.Time
	// Timer starts a wait of d: its channel delivers once it ends; stop abandons it.
	Timer(d time.Duration) (c <-chan time.Time, stop func())
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

func (wallClock) Timer(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTimer(d)
	return t.C, func() { t.Stop() }
}

func coalesceOn(clk clock, in <-chan app.Event, done <-chan struct{}, interval time.Duration, apply func(app.Status), alert func(app.Alert)) {
	var (
		latest  app.Status
		pending bool
		last    time.Time
		stop    func()
		fire    <-chan time.Time
	)
	defer func() {
		if stop != nil {
			stop()
		}
	}()
	for {
		select {
		case <-done:
			return
		case ev, ok := <-in:
			if !ok {
				if pending {
					apply(latest)
				}
				return
			}
			if ev.Kind == app.EventAlert && ev.Alert != nil && alert != nil {
				alert(*ev.Alert)
			}
			latest, pending = ev.Status, true
			if fire != nil {
				continue // a trailing call is already scheduled and will carry this status
			}
			if wait := interval - clk.Now().Sub(last); wait > 0 {
				fire, stop = clk.Timer(wait)
				continue
			}
			apply(latest)
			pending, last = false, clk.Now()
		case <-fire:
			fire = nil
			if pending {
				apply(latest)
				pending, last = false, clk.Now()
			}
		}
	}
}

package ui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/clawgate/clawgate/app"
)

// The windows fit a 1366x768 screen whatever the data: a long model list scrolls instead of
// growing the status window, and long names and errors do not widen the activity window.
func TestWindowsFitSmallScreen(t *testing.T) {
	many := running
	many.Models = nil
	for i := range 40 {
		many.Models = append(many.Models, fmt.Sprintf("provider-%d/some-rather-long-model-name-%d", i, i))
	}
	act := sampleActivity()
	for i := range 200 {
		act.Requests = append(act.Requests, app.Request{ID: fmt.Sprint(i), Start: time.Now(), Model: strings.Repeat("m", 80),
			Error: strings.Repeat("upstream said no ", 30)})
	}
	_, _, g := openActivity(t, act, tabRequests)
	g.apply(many)

	for name, c := range map[string]struct{ w, h float32 }{
		"status":   {g.mainWin().w.Content().MinSize().Width, g.mainWin().w.Content().MinSize().Height},
		"activity": {g.activityWin().w.Content().MinSize().Width, g.activityWin().w.Content().MinSize().Height},
	} {
		if c.w > 1366 || c.h > 768-32 {
			t.Errorf("%s window needs %.0fx%.0f, more than a 1366x768 screen", name, c.w, c.h)
		}
	}
	if s := g.mainWin().w.Canvas().Size(); s.Height > 768-32 {
		t.Errorf("status window opens %.0f high", s.Height)
	}
}

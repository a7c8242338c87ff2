package ui

import (
	"time"

	"fyne.io/fyne/v2"
)

// idlePark is how long Fyne's event loop may stay parked while no window is open. Fyne's GLFW loop
// wakes 60 times a second to poll X11 and draw, even with every window hidden: about 2% of a core
// under Xvfb for an empty app with a tray icon, too much for something that sits in the tray all
// day. Parked, it wakes twice a second. A status change ends the park at once (nudge); a click in
// the tray menu, which Fyne queues where nothing here sees it, waits at most this long. Each turn
// of the loop costs about half a millisecond of CPU in thread hand-offs (the loop's thread is
// locked to it), so this sets the idle cost: 12 clock ticks a minute at 250 ms, 6 at 500 ms, side
// by side on the 2-core dev machine.
const idlePark = 500 * time.Millisecond

// idleGate parks Fyne's loop by running a function on it that waits, while no window is open. The
// loop then neither polls nor draws; when the wait ends the loop runs whatever was queued meanwhile
// (tray clicks, status updates), and the gate parks it again.
type idleGate struct {
	anyOpen func() bool // on the Fyne goroutine: is a window showing?
	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{}
}

func newIdleGate(anyOpen func() bool) *idleGate {
	return &idleGate{anyOpen: anyOpen, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
}

// nudge ends a park early: call it after queueing work for the Fyne goroutine.
func (ig *idleGate) nudge() {
	select {
	case ig.wake <- struct{}{}:
	default:
	}
}

// run parks the loop until close; start it in its own goroutine.
func (ig *idleGate) run() {
	defer close(ig.done)
	for {
		parked := false
		fyne.DoAndWait(func() {
			if ig.anyOpen() {
				return
			}
			parked = true
			t := time.NewTimer(idlePark)
			defer t.Stop()
			select {
			case <-ig.wake:
			case <-t.C:
			case <-ig.stop:
			}
		})
		if parked {
			select {
			case <-ig.stop:
				return
			default:
			}
			continue
		}
		// A window is open: the loop must run freely. Look again when something happens, or
		// every second (a window closed by its own button sends no event here).
		t := time.NewTimer(time.Second)
		select {
		case <-ig.stop:
			t.Stop()
			return
		case <-ig.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// close ends run and waits for it.
func (ig *idleGate) close() {
	close(ig.stop)
	<-ig.done
}

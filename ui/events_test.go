package ui

import (
	"testing"
	"time"

	"github.com/clawgate/clawgate/app"
)

func TestCoalesceBurst(t *testing.T) {
	in := make(chan app.Event)
	applied := make(chan app.Status, 100)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		coalesce(in, nil, time.Hour, func(s app.Status) { applied <- s }, nil)
	}()

	// The first event of a quiet spell goes through at once...
	in <- app.Event{Status: app.Status{Requests: 1}}
	if s := <-applied; s.Requests != 1 {
		t.Fatalf("first apply carried %d, want 1", s.Requests)
	}
	// ...the rest of the burst waits for the interval (an hour here), so nothing more is applied
	// until the channel closes, and then only the newest status.
	for i := int64(2); i <= 50; i++ {
		in <- app.Event{Status: app.Status{Requests: i}}
	}
	close(in)
	<-finished
	close(applied)
	var got []int64
	for s := range applied {
		got = append(got, s.Requests)
	}
	if len(got) != 1 || got[0] != 50 {
		t.Fatalf("after the burst applied %v, want [50]", got)
	}
}

func TestCoalesceTrailingCall(t *testing.T) {
	in := make(chan app.Event)
	applied := make(chan app.Status, 100)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		coalesce(in, done, 20*time.Millisecond, func(s app.Status) { applied <- s }, nil)
	}()
	defer func() { close(done); <-finished }()

	start := time.Now()
	for i := int64(1); i <= 20; i++ {
		in <- app.Event{Status: app.Status{Requests: i}}
	}
	first := <-applied
	if first.Requests != 1 {
		t.Fatalf("first apply carried %d, want 1", first.Requests)
	}
	// The trailing call comes once the interval has passed, with the newest status.
	select {
	case s := <-applied:
		if s.Requests != 20 {
			t.Fatalf("trailing apply carried %d, want 20", s.Requests)
		}
		if since := time.Since(start); since < 20*time.Millisecond {
			t.Fatalf("trailing apply after %v, want at least the interval", since)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no trailing apply")
	}
	if n := len(applied); n != 0 {
		t.Fatalf("%d extra applies", n)
	}
}

func TestCoalesceStops(t *testing.T) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		// A nil channel never delivers: only done can end the loop (the stub service returns nil).
		coalesce(nil, done, time.Millisecond, func(app.Status) { t.Error("applied without events") }, nil)
	}()
	close(done)
	select {
	case <-finished:
	case <-time.After(5 * time.Second):
		t.Fatal("coalesce did not stop")
	}
}

func TestAlertsPassUnthrottled(t *testing.T) {
	in := make(chan app.Event, 4)
	var got []string
	in <- app.Event{Kind: app.EventStatus}
	in <- app.Event{Kind: app.EventAlert, Alert: &app.Alert{Title: "Budget openclaw at 80%"}}
	in <- app.Event{Kind: app.EventAlert, Alert: &app.Alert{Title: "Budget openclaw at 100%"}}
	close(in)
	coalesce(in, nil, time.Hour, func(app.Status) {}, func(a app.Alert) { got = append(got, a.Title) })
	if len(got) != 2 || got[0] != "Budget openclaw at 80%" || got[1] != "Budget openclaw at 100%" {
		t.Errorf("alerts = %q", got)
	}
}

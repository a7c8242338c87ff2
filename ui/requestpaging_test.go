package ui

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/clawgate/clawgate/app"
	"github.com/clawgate/clawgate/internal/fakeupstream"
)

// countingApp is the real app, counting the Requests tab's reads.
type countingApp struct {
	*app.App
	reads atomic.Int64
}

func (c *countingApp) Requests(ctx context.Context, f app.RequestFilter) ([]app.Request, error) {
	c.reads.Add(1)
	return c.App.Requests(ctx, f)
}

// requestsApp is a running app with a fake upstream behind model "local", prompt storage on.
func requestsApp(t *testing.T) (*countingApp, func(model string)) {
	t.Helper()
	up := httptest.NewServer(fakeupstream.New())
	t.Cleanup(up.Close)
	config := strings.Replace(routesConfig, "ollama_chat/llama3.1\n      api_base: http://127.0.0.1:9",
		"openai/gpt-4o-mini\n      api_base: "+up.URL+"/v1\n      api_key: sk-up", 1)
	config = strings.Replace(config, "  master_key: sk-master   # mine\n", "  master_key: sk-master   # mine\n  store_prompts_in_spend_logs: true\n", 1)
	svc, _ := realApp(t, config, memKeychain{})
	call := func(model string) {
		t.Helper()
		req, _ := http.NewRequest("POST", svc.Status().BaseURL()+"/v1/chat/completions",
			strings.NewReader(`{"model":"`+model+`","messages":[{"role":"user","content":"say hi"}]}`))
		req.Header.Set("Authorization", "Bearer sk-master")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	return &countingApp{App: svc}, call
}

// Pages of two through five requests: Older to the end, Newer back to page 1, the full row and
// its stored prompt in the pane, and Copy as curl with the placeholder for the key.
func TestRequestsPagingAndDetail(t *testing.T) {
	svc, call := requestsApp(t)
	for range 5 {
		call("local")
	}
	prev := requestPageSize
	requestPageSize = 2
	t.Cleanup(func() { requestPageSize = prev })

	a := test.NewTempApp(t)
	uiQueue(t)
	g := newGUI(a, newFakeTray(), svc, Options{})
	settle(t, g)
	g.activityWin().show(tabRequests)
	rf := g.activityWin().filters
	waitFor(t, "page 1", func() bool { return len(g.activityWin().reqs) == 2 && rf.pageLabel.Text == "page 1" })
	if !rf.newer.Disabled() || rf.older.Disabled() {
		t.Errorf("page 1: newer enabled %v, older enabled %v", !rf.newer.Disabled(), !rf.older.Disabled())
	}
	all, err := svc.App.Requests(context.Background(), app.RequestFilter{})
	if err != nil || len(all) != 5 {
		t.Fatalf("%d requests, %v", len(all), err)
	}
	var seen []string
	for page := 1; ; page++ {
		waitFor(t, "page", func() bool { return rf.pageLabel.Text == "page "+strconv.Itoa(page) && !g.activityWin().loading.Load() })
		for _, r := range g.activityWin().reqs {
			seen = append(seen, r.ID)
		}
		if rf.older.Disabled() {
			break
		}
		test.Tap(rf.older)
	}
	if len(seen) != 5 || seen[0] != all[0].ID || seen[4] != all[4].ID || rf.pageLabel.Text != "page 3" {
		t.Fatalf("walked %v on %s; want the 5 requests newest first over 3 pages", seen, rf.pageLabel.Text)
	}
	shots(t, a, g.activityWin().w, "requests-page3")
	test.Tap(rf.newer)
	waitFor(t, "page 2 again", func() bool {
		return rf.pageLabel.Text == "page 2" && len(g.activityWin().reqs) == 2 && g.activityWin().reqs[0].ID == all[2].ID
	})
	test.Tap(rf.newer)
	waitFor(t, "page 1 again", func() bool {
		return rf.pageLabel.Text == "page 1" && len(g.activityWin().reqs) == 2 && g.activityWin().reqs[0].ID == all[0].ID
	})

	// The detail pane: the full row, the stored prompt, and curl without the key.
	g.activityWin().table.table.Select(widget.TableCellID{Row: 1, Col: 0})
	waitFor(t, "the full row", func() bool { return g.activityWin().pane.cur != nil && g.activityWin().pane.cur.ID == all[1].ID })
	for _, want := range []string{"Request id: " + all[1].ID, "Call type: acompletion", "Prompt (request body):", "say hi", "Response:"} {
		if !strings.Contains(g.activityWin().detail.Text, want) {
			t.Errorf("detail lacks %q:\n%s", want, g.activityWin().detail.Text)
		}
	}
	test.Tap(g.activityWin().pane.curl)
	curl := a.Clipboard().Content()
	if !strings.Contains(curl, "Bearer $LITELLM_API_KEY") || !strings.Contains(curl, "say hi") || strings.Contains(curl, "sk-master") {
		t.Errorf("curl:\n%s", curl)
	}
	shots(t, a, g.activityWin().w, "requests-detail")

	// A date range with no requests in it: an empty page, both buttons off.
	test.Type(rf.from, "2020-01-01")
	test.Type(rf.to, "2020-01-02")
	waitFor(t, "the empty range", func() bool { return len(g.activityWin().reqs) == 0 && !g.activityWin().loading.Load() })
	if !rf.newer.Disabled() || !rf.older.Disabled() {
		t.Error("paging offered on an empty page")
	}
}

// The window reads when it opens and on a request's change event, not on a timer; closed, it
// reads nothing.
func TestRequestsRefreshOnChange(t *testing.T) {
	svc, call := requestsApp(t)
	call("local")
	a := test.NewTempApp(t)
	uiQueue(t)
	g := newGUI(a, newFakeTray(), svc, Options{})
	settle(t, g)
	g.activityWin().show(tabRequests)
	waitFor(t, "the first read", func() bool { return len(g.activityWin().reqs) == 1 && !g.activityWin().loading.Load() })
	opened := svc.reads.Load()

	// Nothing happens for longer than the old 2 s poll: no read.
	quiet := time.Now().Add(2*requestsEvery + 500*time.Millisecond)
	for time.Now().Before(quiet) {
		pump()
		time.Sleep(20 * time.Millisecond)
	}
	if n := svc.reads.Load(); n != opened {
		t.Fatalf("%d reads while nothing changed", n-opened)
	}

	// A request: it shows without any tick, after one or two reads (the throttle's trailing one).
	call("local")
	waitFor(t, "the new request", func() bool { return len(g.activityWin().reqs) == 2 })
	if n := svc.reads.Load() - opened; n < 1 || n > 2 {
		t.Errorf("%d reads for one request", n)
	}

	// A burst of ten is at most a few reads, not ten.
	before := svc.reads.Load()
	for range 10 {
		call("local")
	}
	waitFor(t, "the burst", func() bool { return len(g.activityWin().reqs) == 12 })
	if n := svc.reads.Load() - before; n > 5 {
		t.Errorf("%d reads for a burst of 10 requests", n)
	}

	// Closed: unsubscribed, no reads.
	g.activityWin().hide()
	g.activityWin().jobs.Wait()
	closed := svc.reads.Load()
	call("local")
	pump()
	if n := svc.reads.Load(); n != closed {
		t.Errorf("%d reads with the window closed", n-closed)
	}
}

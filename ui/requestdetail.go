package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/clawgate/clawgate/app"
)

// requestDetailService reads one request in full (*app.App implements it) and says where the
// gateway listens, for "Copy as curl".
type requestDetailService interface {
	RequestDetail(ctx context.Context, id string) (app.RequestDetail, error)
	Status() app.Status
}

// bodyShown bounds each stored body in the pane; the CSV and the curl command carry it whole.
const bodyShown = 20000

// requestPane is the Requests tab's detail pane: the selected row in full, its stored bodies,
// and "Copy as curl".
type requestPane struct {
	rw   *activityWindow
	svc  requestDetailService
	curl *widget.Button
	cur  *app.RequestDetail // the row shown; nil while none is, or while it loads
	want string             // the id last selected: a slow read for an earlier one is dropped
}

// enableRequestDetail swaps the one-line detail for the full pane.
func (rw *activityWindow) enableRequestDetail(svc requestDetailService) {
	p := &requestPane{rw: rw, svc: svc}
	rw.pane = p
	p.curl = widget.NewButtonWithIcon("Copy as curl", theme.ContentCopyIcon(), p.copyCurl)
	p.curl.Disable()
	scroll := container.NewVScroll(rw.detail)
	scroll.SetMinSize(fyne.NewSize(0, 150))
	// Before the filter bar wraps the tab (enableEditors' order): the tab is the table over the
	// detail line, rebuilt here with the pane in the line's place.
	rw.tabs.Items[tabRequests].Content = container.NewBorder(nil,
		container.NewBorder(nil, nil, nil, container.NewVBox(p.curl), scroll), nil, nil, rw.table.object())
	rw.tabs.Refresh()
}

// selectRequest shows r at once from the row, then in full when the read returns; Fyne goroutine.
// The table calls it again after each read for the row it keeps selected: the row shown stays.
func (p *requestPane) selectRequest(r *app.Request) {
	if r != nil && p.cur != nil && p.cur.ID == r.ID {
		p.rw.detail.SetText(detailText(*p.cur))
		return
	}
	p.cur = nil
	p.curl.Disable()
	if r == nil {
		p.want = ""
		return
	}
	p.rw.detail.SetText(requestDetail(*r))
	p.want = r.ID
	id := r.ID
	var d app.RequestDetail
	var err error
	p.rw.background(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		d, err = p.svc.RequestDetail(ctx, id)
	}, func() {
		if p.want != id {
			return
		}
		if err != nil {
			p.rw.detail.SetText(p.rw.detail.Text + "\n(could not read the full row: " + err.Error() + ")")
			return
		}
		p.cur = &d
		p.rw.detail.SetText(detailText(d))
		p.curl.Enable()
	})
}

func (p *requestPane) copyCurl() {
	if p.cur == nil {
		return
	}
	fyne.CurrentApp().Clipboard().SetContent(p.cur.Curl(p.svc.Status().BaseURL()))
}

// detailText is every field of d, one per line, then the stored bodies.
func detailText(d app.RequestDetail) string {
	var b strings.Builder
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	b.WriteString(requestDetail(d.Request) + "\n")
	line("Request id", d.ID)
	line("Response id", d.ResponseID)
	line("Call type", d.CallType)
	line("Started", d.Start.Local().Format("2006-01-02 15:04:05.000"))
	if d.FirstToken != nil {
		line("First token after", d.FirstToken.Sub(d.Start).Round(time.Millisecond).String())
	}
	line("Deployment", strings.TrimSpace(d.ModelID+" "+d.APIBase))
	line("User", d.User)
	line("End user", d.EndUser)
	line("Tokens", fmt.Sprintf("%d in, %d out, %d total; cache read %d, cache write %d, reasoning %d",
		d.PromptTokens, d.CompletionTokens, d.TotalTokens, d.CacheReadTokens, d.CacheWriteTokens, d.ReasoningTokens))
	if d.Fallbacks > 0 || d.Retries > 0 {
		line("Fallbacks, retries", fmt.Sprintf("%d, %d", d.Fallbacks, d.Retries))
	}
	keys := make([]string, 0, len(d.Metadata))
	for k := range d.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v, _ := json.Marshal(d.Metadata[k])
		line("Metadata "+k, string(v))
	}
	if d.Body == nil && d.Reply == nil {
		b.WriteString("Prompt and response: not stored (prompt storage is off)\n")
	}
	body := func(k string, v []byte) {
		if v == nil {
			return
		}
		var out bytes.Buffer
		if json.Indent(&out, v, "", "  ") != nil {
			out.Reset()
			out.Write(v)
		}
		s := out.String()
		if len(s) > bodyShown {
			s = s[:bodyShown] + "\n… (cut; Copy as curl has it whole)"
		}
		fmt.Fprintf(&b, "%s:\n%s\n", k, s)
	}
	body("Prompt (request body)", d.Body)
	body("Response", d.Reply)
	return strings.TrimRight(b.String(), "\n")
}

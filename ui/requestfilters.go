package ui

import (
	"context"
	"io"
	"strconv"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/clawgate/clawgate/app"
)

// requestService filters the spend log and exports it (*app.App implements it); both query the
// store and run off the Fyne goroutine.
type requestService interface {
	Requests(ctx context.Context, f app.RequestFilter) ([]app.Request, error)
	ExportRequestsCSV(ctx context.Context, f app.RequestFilter, w io.Writer) (int, error)
}

// exportTimeout bounds a CSV export (a million rows take seconds).
const exportTimeout = 5 * time.Minute

// requestFilters is the bar above the Requests table.
type requestFilters struct {
	rw     *activityWindow
	svc    requestService
	model  *widget.SelectEntry
	key    *widget.Entry
	status *widget.Select
	text   *widget.Entry
	export *widget.Button
	note   *widget.Label
}

const statusAll = "any result"

// enableRequestFilters puts the filter bar and Export CSV… above the Requests table.
func (rw *activityWindow) enableRequestFilters(svc requestService) {
	rf := &requestFilters{rw: rw, svc: svc}
	rw.filters = rf
	rf.model = widget.NewSelectEntry(nil)
	rf.model.SetPlaceHolder("any model")
	rf.key = widget.NewEntry()
	rf.key.SetPlaceHolder("any key (alias)")
	rf.status = widget.NewSelect([]string{statusAll, "ok", "failed"}, nil)
	rf.status.SetSelected(statusAll)
	rf.text = widget.NewEntry()
	rf.text.SetPlaceHolder("search model, key, error…")
	rf.export = widget.NewButtonWithIcon("Export CSV…", theme.DocumentSaveIcon(), rf.chooseFile)
	rf.note = widget.NewLabel("")
	changed := func(string) { rw.refresh() }
	rf.model.OnChanged = changed
	rf.key.OnChanged = changed
	rf.status.OnChanged = changed
	rf.text.OnChanged = changed
	bar := container.NewBorder(nil, nil, nil, container.NewHBox(rf.note, rf.export),
		container.NewGridWithColumns(4, rf.model, rf.key, rf.status, rf.text))
	tab := rw.tabs.Items[tabRequests]
	tab.Content = container.NewBorder(container.NewPadded(bar), nil, nil, nil, tab.Content)
	rw.tabs.Refresh()
}

// filter is what the bar asks for, at most n rows.
func (rf *requestFilters) filter(n int) app.RequestFilter {
	f := app.RequestFilter{Model: rf.model.Text, Key: rf.key.Text, Text: rf.text.Text, Limit: n}
	if rf.status.Selected != statusAll {
		f.Status = rf.status.Selected
	}
	return f
}

// active reports whether any filter is set.
func (rf *requestFilters) active() bool {
	f := rf.filter(0)
	return f.Model != "" || f.Key != "" || f.Status != "" || f.Text != ""
}

// offerModels fills the model list from what is served; Fyne goroutine.
func (rf *requestFilters) offerModels(models []string) {
	rf.model.SetOptions(models)
}

func (rf *requestFilters) chooseFile() {
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		rf.exportTo(w)
	}, rf.rw.w)
	d.SetFileName("clawgate-requests-" + time.Now().Format("2006-01-02") + ".csv")
	d.Resize(fyne.NewSize(900, 600))
	d.Show()
}

// exportTo writes the filtered rows to w off the Fyne goroutine and says how many went.
func (rf *requestFilters) exportTo(w io.WriteCloser) {
	f := rf.filter(0)
	rf.export.Disable()
	rf.note.SetText("Exporting…")
	var n int
	var err error
	rf.rw.background(func() {
		ctx, cancel := context.WithTimeout(context.Background(), exportTimeout)
		defer cancel()
		n, err = rf.svc.ExportRequestsCSV(ctx, f, w)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
	}, func() {
		rf.export.Enable()
		if err != nil {
			rf.note.SetText("Export failed: " + err.Error())
			return
		}
		rf.note.SetText(plural(n, "row") + " exported")
	})
}

// filteredNote is the summary's addition while filters are set.
func filteredNote(n int) string {
	if n >= requestsShown {
		return "   ·   filtered: the newest " + strconv.Itoa(n) + " matches"
	}
	if n == 1 {
		return "   ·   filtered: 1 match"
	}
	return "   ·   filtered: " + strconv.Itoa(n) + " matches"
}

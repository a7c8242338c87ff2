package ui

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
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

// requestPageSize is how many requests a page of the Requests tab lists.
var requestPageSize = requestsShown // a var: tests page through a few rows

// requestFilters is the bar above the Requests table and the pager below it.
type requestFilters struct {
	rw     *activityWindow
	svc    requestService
	model  *widget.SelectEntry
	key    *widget.Entry
	status *widget.Select
	text   *widget.Entry
	from   *widget.Entry // the first day shown, YYYY-MM-DD (local)
	to     *widget.Entry // the last day shown
	export *widget.Button
	note   *widget.Label

	// Paging by cursor: page 1 is the newest and follows new requests; after/before hold the
	// row the shown page was read from (one of them, or neither on page 1).
	page          int
	after, before *app.Request
	newer, older  *widget.Button
	pageLabel     *widget.Label
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
	rf.text.SetPlaceHolder("search…")
	rf.from, rf.to = widget.NewEntry(), widget.NewEntry()
	rf.from.SetPlaceHolder("from date")
	rf.to.SetPlaceHolder("to date")
	rf.from.Validator, rf.to.Validator = validDay, validDay
	rf.page = 1
	rf.newer = widget.NewButtonWithIcon("Newer", theme.NavigateBackIcon(), rf.newerPage)
	rf.older = widget.NewButtonWithIcon("Older", theme.NavigateNextIcon(), rf.olderPage)
	rf.older.IconPlacement = widget.ButtonIconTrailingText
	rf.pageLabel = widget.NewLabel("")
	rf.export = widget.NewButtonWithIcon("Export CSV…", theme.DocumentSaveIcon(), rf.chooseFile)
	rf.note = widget.NewLabel("")
	changed := func(string) { rf.firstPage(); rw.refresh() }
	rf.model.OnChanged = changed
	rf.key.OnChanged = changed
	rf.status.OnChanged = changed
	rf.text.OnChanged = changed
	rf.from.OnChanged = changed
	rf.to.OnChanged = changed
	bar := container.NewBorder(nil, nil, nil, container.NewHBox(rf.note, rf.export),
		container.NewGridWithColumns(6, rf.model, rf.key, rf.status, rf.text, rf.from, rf.to))
	pager := container.NewHBox(rf.newer, rf.pageLabel, rf.older)
	rf.showPage(0)
	tab := rw.tabs.Items[tabRequests]
	tab.Content = container.NewBorder(container.NewPadded(bar), container.NewCenter(pager), nil, nil, tab.Content)
	rw.tabs.Refresh()
}

// validDay accepts "" (no bound) or a date as YYYY-MM-DD.
func validDay(s string) error {
	_, _, err := parseDay(s)
	return err
}

// parseDay reads s as a local day; ok is false for "".
func parseDay(s string) (time.Time, bool, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false, nil
	}
	d, err := time.ParseInLocation("2006-01-02", s, time.Local)
	if err != nil {
		return time.Time{}, false, errors.New("a date as YYYY-MM-DD")
	}
	return d, true, nil
}

// firstPage goes back to the newest page (a filter changed).
func (rf *requestFilters) firstPage() { rf.page, rf.after, rf.before = 1, nil, nil }

// olderPage reads the page after the shown one's last row; Fyne goroutine.
func (rf *requestFilters) olderPage() {
	if n := len(rf.rw.reqs); n > 0 {
		last := rf.rw.reqs[n-1]
		rf.page, rf.after, rf.before = rf.page+1, &last, nil
		rf.rw.refresh()
	}
}

// newerPage reads the page before the shown one's first row; Fyne goroutine.
func (rf *requestFilters) newerPage() {
	if rf.page <= 2 || len(rf.rw.reqs) == 0 {
		rf.firstPage() // page 1 is read from the top, so it keeps showing new requests
	} else {
		first := rf.rw.reqs[0]
		rf.page, rf.after, rf.before = rf.page-1, nil, &first
	}
	rf.rw.refresh()
}

// showPage sets the pager after a read of n rows; Fyne goroutine.
func (rf *requestFilters) showPage(n int) {
	if rf.before != nil && n < requestPageSize {
		rf.firstPage() // fewer newer rows than a page: this is the top, show it as page 1
		rf.rw.refresh()
	}
	rf.pageLabel.SetText("page " + strconv.Itoa(rf.page))
	if rf.page > 1 {
		rf.newer.Enable()
	} else {
		rf.newer.Disable()
	}
	if n >= requestPageSize {
		rf.older.Enable()
	} else {
		rf.older.Disable()
	}
}

// filter is what the bar asks for, at most n rows of the shown page (n = 0: every match, for
// the export). A date that does not parse does not filter (the entry shows why).
func (rf *requestFilters) filter(n int) app.RequestFilter {
	f := app.RequestFilter{Model: rf.model.Text, Key: rf.key.Text, Text: rf.text.Text, Limit: n}
	if rf.status.Selected != statusAll {
		f.Status = rf.status.Selected
	}
	if d, ok, err := parseDay(rf.from.Text); ok && err == nil {
		f.Since = d
	}
	if d, ok, err := parseDay(rf.to.Text); ok && err == nil {
		f.Until = d.AddDate(0, 0, 1) // the whole last day
	}
	if n > 0 {
		f.After, f.Before = rf.after, rf.before
	}
	return f
}

// active reports whether any filter is set.
func (rf *requestFilters) active() bool {
	f := rf.filter(0)
	return f.Model != "" || f.Key != "" || f.Status != "" || f.Text != "" || !f.Since.IsZero() || !f.Until.IsZero()
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

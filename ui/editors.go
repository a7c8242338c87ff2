package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"
)

// enableEditors turns on the editors the service supports: routes in config.yaml (routes.go),
// virtual keys and the proxy budget (keys.go). A service that only reports (a test's fake) leaves
// the windows read-mostly, as they were.
func (rw *activityWindow) enableEditors(svc any) {
	if rs, ok := svc.(routeService); ok {
		rw.enableRouteEditing(rs)
	}
	if ks, ok := svc.(keyService); ok {
		rw.bedit.enableKeys(ks)
	}
	if ss, ok := svc.(secretService); ok {
		rw.enableSecrets(ss)
	}
	if ds, ok := svc.(requestDetailService); ok {
		rw.enableRequestDetail(ds) // first: it rebuilds the tab the filter bar then wraps
	}
	if rs, ok := svc.(requestService); ok {
		rw.enableRequestFilters(rs)
	}
	if os, ok := svc.(overviewService); ok {
		rw.enableOverview(os)
	}
	if cs, ok := svc.(changeService); ok {
		rw.enableChanges(cs)
	}
}

// background runs call off the Fyne goroutine and then done on it, unless the app is closing.
func (rw *activityWindow) background(call func(), done func()) {
	rw.jobs.Add(1)
	go func() {
		defer rw.jobs.Done()
		call()
		onUI(func() {
			if !rw.closed.Load() {
				done()
			}
		})
	}()
}

// models are the model names served, from the last read, in config order, once each.
func (rw *activityWindow) models() []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range rw.lastRoutes {
		if !seen[r.Name] {
			seen[r.Name] = true
			out = append(out, r.Name)
		}
	}
	return out
}

// showForm is dialog.ShowForm at a width where entries show what is typed (Fyne sizes a form
// dialog to its minimum, a few characters per entry).
func showForm(title string, items []*widget.FormItem, done func(bool), w fyne.Window) {
	d := dialog.NewForm(title, "Save", "Cancel", items, done, w)
	d.Resize(fyne.NewSize(480, d.MinSize().Height))
	d.Show()
}

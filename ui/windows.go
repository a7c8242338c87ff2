package ui

// The windows are built the first time something needs them, not at start-up. Laying a window out
// measures its text, and that makes Fyne parse its fonts (go-text's tables and the locale's system
// fallback font, about 28 MiB of heap) even for a window that is never shown; a tray app left
// alone in the tray builds none. Each accessor builds its window once, with what the gui knows by
// then, and returns it; fields left nil mean "not built yet".

// mainWin is the status window: the tray's "Show status…", the face of an app without a tray.
func (g *gui) mainWin() *statusWindow {
	if g.win == nil {
		g.win = newStatusWindow(g.a, windowActions{
			copyURL:     g.copyURL,
			copySnippet: g.copySnippet,
			openFolder:  g.openFolder,
		})
		if g.tray != nil {
			// With a tray the window is a view that comes and goes; the tray's Quit ends the app.
			g.win.w.SetCloseIntercept(g.win.hide)
		} else {
			// Without a tray the window is all there is: closing it asks whether to quit.
			g.win.w.SetCloseIntercept(g.confirmQuit)
		}
		g.win.update(g.status)
	}
	return g.win
}

// activityWin is the Requests/Budgets/Routes window, with the editors the service allows.
func (g *gui) activityWin() *activityWindow {
	if g.reqs == nil {
		g.reqs = newActivityWindow(g.a, g.svc.Activity, g.svc.EditKey, &g.stopped)
		g.reqs.enableEditors(g.svc) // the windows' editors, where the service can edit (editors.go)
	}
	return g.reqs
}

// problemsWin is the Problems and log window; it reads the status each time it opens.
func (g *gui) problemsWin() *problemsWindow {
	if g.prob == nil {
		g.prob = newProblemsWindow(g)
	}
	return g.prob
}

// settingsWin is the Settings window, nil when the service cannot edit settings.
func (g *gui) settingsWin() *settingsWindow {
	if ss, ok := g.svc.(settingsService); ok && g.sets == nil {
		g.sets = newSettingsWindow(g, ss)
	}
	return g.sets
}

// wizardWin is the first-run wizard, nil when the service lacks its calls.
func (g *gui) wizardWin() *wizardWindow {
	if ws, ok := g.svc.(wizardService); ok && g.wiz == nil {
		g.wiz = newWizardWindow(g, ws)
	}
	return g.wiz
}

// teamWin is the Team window (join a team gateway, then its key's spend), nil when the service lacks its calls.
func (g *gui) teamWin() *teamWindow {
	if ts, ok := g.svc.(teamService); ok && g.team == nil {
		g.team = newTeamWindow(g, ts)
	}
	return g.team
}

// anyWindowOpen says whether a window is showing (then Fyne's loop must run at full rate). It
// builds nothing: a window never built is not open.
func (g *gui) anyWindowOpen() bool {
	return g.win != nil && g.win.visible || g.prob != nil && g.prob.visible || g.reqs != nil && g.reqs.visible ||
		g.sets != nil && g.sets.visible || g.wiz != nil && g.wiz.visible || g.team != nil && g.team.visible
}

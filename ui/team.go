package ui

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/clawgate/clawgate/app"
)

// teamService is what the Team window and the tray's Team submenu call (*app.App implements it).
// Every call talks to the team gateway or edits OpenClaw's files: off the Fyne goroutine.
type teamService interface {
	JoinTeam(ctx context.Context, url, key string) ([]string, error)
	RefreshTeam(ctx context.Context) (app.TeamState, error)
	UseTeamGateway(ctx context.Context) ([]string, error)
	UseLocalGateway(ctx context.Context) ([]string, error)
	LeaveTeam(ctx context.Context) ([]string, error)
}

// teamTimeout bounds one team call from the ui (a check reads the team gateway, then OpenClaw's
// config is edited, which may wait for OpenClaw's lock).
const teamTimeout = time.Minute

// teamRefreshEvery is how often the Team window re-reads the key's spend while it is shown. The
// team gateway is someone else's server: no reads at all while the window is closed.
var teamRefreshEvery = time.Minute

// teamWindow joins a team gateway (a URL and a virtual key, checked before anything is kept),
// then shows the key's spend, budget and models as the team gateway reports them, and switches
// OpenClaw between the team and this computer's gateway.
type teamWindow struct {
	g       *gui
	svc     teamService
	w       fyne.Window
	visible bool
	joined  bool // which view is the content: the details (true) or the join form

	// The join form.
	url, key   *widget.Entry
	urlProblem *widget.Label
	joinErr    *widget.Label
	join       *widget.Button
	joining    bool
	form       fyne.CanvasObject

	// The details.
	where, spend, window, models, readAt, readErr *widget.Label
	bar                                           *widget.ProgressBar
	useTeam, useLocal, refresh, leave             *widget.Button
	details                                       fyne.CanvasObject

	reading  bool
	tickMu   sync.Mutex
	stopTick chan struct{} // closes to end the refresh ticker; nil when none runs
	reads    int           // RefreshTeam calls made (tests)
}

func newTeamWindow(g *gui, svc teamService) *teamWindow {
	tw := &teamWindow{g: g, svc: svc, w: g.a.NewWindow("Clawgate: team gateway")}
	tw.buildForm()
	tw.buildDetails()
	tw.w.SetContent(tw.form)
	tw.w.Resize(fyne.NewSize(560, 420))
	tw.w.SetCloseIntercept(tw.hide)
	return tw
}

func wrapped(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	return l
}

func (tw *teamWindow) buildForm() {
	tw.url = widget.NewEntry()
	tw.url.SetPlaceHolder("https://llm.example.com")
	tw.url.OnChanged = func(string) { tw.check() }
	tw.key = widget.NewPasswordEntry()
	tw.key.SetPlaceHolder("sk-...")
	tw.key.OnChanged = func(string) { tw.check() }
	tw.key.OnSubmitted = func(string) {
		if !tw.join.Disabled() {
			tw.submit()
		}
	}
	tw.urlProblem = wrapped("")
	tw.urlProblem.Importance = widget.DangerImportance
	tw.urlProblem.Hide()
	tw.joinErr = wrapped("")
	tw.joinErr.Hide()
	tw.join = widget.NewButton("Join", tw.submit)
	tw.join.Importance = widget.HighImportance
	tw.join.Disable()
	intro := wrapped("Your team runs a Clawgate or LiteLLM server and gave you a virtual key. Clawgate checks both, keeps " +
		"the key in this computer's keychain, and points OpenClaw at the team's server; one click brings it back here.")
	form := widget.NewForm(
		widget.NewFormItem("Team gateway URL", tw.url),
		widget.NewFormItem("Virtual key", tw.key),
	)
	tw.form = container.NewPadded(container.NewVBox(
		widget.NewLabelWithStyle("Join a team gateway", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		intro, form, tw.urlProblem, container.NewHBox(tw.join), tw.joinErr))
}

func (tw *teamWindow) buildDetails() {
	tw.where = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	tw.where.Wrapping = fyne.TextWrapBreak
	tw.spend = widget.NewLabel("")
	tw.bar = widget.NewProgressBar()
	tw.bar.TextFormatter = func() string { return fmt.Sprintf("%.0f%% of the budget", tw.bar.Value*100) }
	tw.window = wrapped("")
	tw.models = wrapped("")
	tw.readAt = wrapped("")
	tw.readErr = wrapped("")
	tw.readErr.Importance = widget.DangerImportance
	tw.readErr.Hide()
	tw.useTeam = widget.NewButton("Use the team gateway", func() { tw.switchTo(true) })
	tw.useTeam.Importance = widget.HighImportance
	tw.useLocal = widget.NewButton("Use the local gateway", func() { tw.switchTo(false) })
	tw.useLocal.Importance = widget.HighImportance
	tw.refresh = widget.NewButton("Refresh", tw.refreshNow)
	tw.leave = widget.NewButton("Leave team…", tw.confirmLeave)
	tw.details = container.NewPadded(container.NewVBox(
		tw.where, tw.spend, tw.bar, tw.window,
		widget.NewSeparator(),
		widget.NewLabelWithStyle("Models", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), tw.models,
		widget.NewSeparator(),
		tw.readAt, tw.readErr,
		container.NewHBox(tw.useTeam, tw.useLocal, tw.refresh, tw.leave)))
}

// check validates the form as typed: a URL Clawgate can reach, a key; Join waits for both.
func (tw *teamWindow) check() {
	problem := ""
	if u := strings.TrimSpace(tw.url.Text); u != "" {
		if _, err := app.NormalizeTeamURL(u); err != nil {
			problem = "Enter the address as https://host (or http://host:port), e.g. https://llm.example.com"
		}
	}
	tw.urlProblem.SetText(problem)
	tw.urlProblem.Hidden = problem == ""
	tw.urlProblem.Refresh()
	key := strings.TrimSpace(tw.key.Text)
	ok := problem == "" && strings.TrimSpace(tw.url.Text) != "" && key != "" && !strings.ContainsAny(key, " \t")
	if ok && !tw.joining {
		tw.join.Enable()
	} else {
		tw.join.Disable()
	}
}

func (tw *teamWindow) show() {
	tw.update(tw.g.status)
	tw.visible = true
	tw.w.Show()
	tw.w.RequestFocus()
	if tw.joined {
		tw.refreshNow()
		tw.startTicking()
	}
}

func (tw *teamWindow) hide() {
	tw.visible = false
	tw.stopTicking()
	tw.w.Hide()
}

// startTicking re-reads the team key once a minute while the window shows its details.
func (tw *teamWindow) startTicking() {
	tw.tickMu.Lock()
	defer tw.tickMu.Unlock()
	if tw.stopTick != nil {
		return
	}
	stop := make(chan struct{})
	tw.stopTick = stop
	every := teamRefreshEvery // read here, on the Fyne goroutine, where tests set it
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				onUI(func() {
					if !tw.g.stopped.Load() && tw.visible && tw.joined {
						tw.refreshNow()
					}
				})
			}
		}
	}()
}

func (tw *teamWindow) stopTicking() {
	tw.tickMu.Lock()
	defer tw.tickMu.Unlock()
	if tw.stopTick != nil {
		close(tw.stopTick)
		tw.stopTick = nil
	}
}

// ticking reports whether the refresh ticker runs.
func (tw *teamWindow) ticking() bool {
	tw.tickMu.Lock()
	defer tw.tickMu.Unlock()
	return tw.stopTick != nil
}

// update shows s; call on the Fyne goroutine. The form gives way to the details once joined.
func (tw *teamWindow) update(s app.Status) {
	t := s.Team
	if t.Joined() != tw.joined || tw.w.Content() == nil {
		tw.joined = t.Joined()
		if tw.joined {
			tw.w.SetContent(tw.details)
			if tw.visible {
				tw.startTicking()
			}
		} else {
			tw.stopTicking()
			tw.w.SetContent(tw.form)
		}
	}
	if !tw.joined {
		return
	}
	using := s.UsingTeam()
	where := "OpenClaw uses this computer's gateway; the team gateway is " + t.URL
	if using {
		where = "OpenClaw uses the team gateway " + t.URL
	}
	tw.where.SetText(where)
	// Only the way to the other gateway is offered: the one in use is said in words above.
	tw.useTeam.Hidden, tw.useLocal.Hidden = using, !using
	tw.useTeam.Refresh()
	tw.useLocal.Refresh()
	tw.readErr.SetText(sentence(t.Err))
	tw.readErr.Hidden = t.Err == ""
	tw.readErr.Refresh()
	if t.Info == nil {
		tw.spend.SetText("Not read yet")
		tw.bar.Hide()
		tw.window.SetText("")
		tw.models.SetText("")
		tw.readAt.SetText("")
		return
	}
	k := t.Info.Key
	line := fmt.Sprintf("Key %s: %s spent", keyName(k), money(k.Spend))
	if k.MaxBudget != nil {
		line = fmt.Sprintf("Key %s: %s of %s", keyName(k), money(k.Spend), money(*k.MaxBudget))
		tw.bar.SetValue(min(1, k.Spend/max(*k.MaxBudget, 1e-9)))
		tw.bar.Show()
	} else {
		tw.bar.Hide()
	}
	tw.spend.SetText(line)
	tw.window.SetText(budgetWindow(k))
	switch {
	case len(t.Info.Models) == 0:
		tw.models.SetText("The team gateway lists no models for this key.")
	default:
		tw.models.SetText(strings.Join(t.Info.Models, ", "))
	}
	tw.readAt.SetText("Read at " + t.Info.ReadAt.Local().Format("15:04:05") + ", and every minute while this window is open.")
}

// sentence starts an error message with a capital, as a line of its own in a window.
func sentence(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	return strings.ToUpper(string(r[0])) + string(r[1:])
}

func keyName(k app.TeamKey) string {
	if k.Alias != "" {
		return k.Alias
	}
	return "(no alias)"
}

func money(v float64) string { return fmt.Sprintf("$%.2f", v) }

// budgetWindow says how the key's budget runs: its window and when it resets.
func budgetWindow(k app.TeamKey) string {
	switch {
	case k.MaxBudget == nil:
		return "No budget on this key."
	case k.BudgetDuration == "":
		return "A lifetime budget: it does not reset."
	case k.BudgetResetAt != nil:
		return fmt.Sprintf("Resets every %s; next on %s.", k.BudgetDuration, k.BudgetResetAt.Local().Format("Mon 2 Jan 15:04"))
	}
	return "Resets every " + k.BudgetDuration + "."
}

// submit joins with what the form holds; the check and the OpenClaw edit run off the Fyne
// goroutine, the result comes back to the form (a refusal) or as the details view.
func (tw *teamWindow) submit() {
	url, key := tw.url.Text, tw.key.Text
	tw.joining = true
	tw.check()
	tw.joinErr.Importance = widget.MediumImportance
	tw.joinErr.SetText("Checking " + strings.TrimSpace(url) + "…")
	tw.joinErr.Show()
	tw.g.jobs.Add(1)
	go func() {
		defer tw.g.jobs.Done()
		ctx, cancel := context.WithTimeout(context.Background(), teamTimeout)
		defer cancel()
		_, err := tw.svc.JoinTeam(ctx, url, key)
		s := tw.g.svc.Status()
		onUI(func() {
			if tw.g.stopped.Load() {
				return
			}
			tw.joining = false
			tw.g.apply(s)
			switch {
			case err != nil && !s.Team.Joined():
				tw.joinErr.Importance = widget.DangerImportance
				tw.joinErr.SetText(sentence(err.Error()))
				tw.check()
			case err != nil: // joined, but OpenClaw could not be pointed at it
				tw.joinErr.Hide()
				tw.key.SetText("")
				dialog.ShowError(fmt.Errorf("joined, but OpenClaw still uses this computer's gateway: %w", err), tw.w)
			default:
				tw.joinErr.Hide()
				tw.key.SetText("")
				tw.g.send("Joined the team gateway", "OpenClaw now uses "+s.Team.URL+".")
			}
		})
	}()
}

// refreshNow re-reads the team key (one read at a time); the status event redraws the window.
func (tw *teamWindow) refreshNow() {
	if tw.reading {
		return
	}
	tw.reading = true
	tw.reads++
	tw.g.jobs.Add(1)
	go func() {
		defer tw.g.jobs.Done()
		ctx, cancel := context.WithTimeout(context.Background(), teamTimeout)
		defer cancel()
		_, _ = tw.svc.RefreshTeam(ctx) // a failure is in the status's Team.Err
		s := tw.g.svc.Status()
		onUI(func() {
			tw.reading = false
			if !tw.g.stopped.Load() {
				tw.g.apply(s)
			}
		})
	}()
}

// switchTo points OpenClaw at the team gateway or back at this computer's.
func (tw *teamWindow) switchTo(team bool) {
	var win fyne.Window
	if tw.visible {
		win = tw.w
	}
	if team {
		tw.g.run(tw.callCtx(tw.svc.UseTeamGateway), "Team gateway", "OpenClaw now uses the team gateway.", "OpenClaw not switched", win)
		return
	}
	tw.g.run(tw.callCtx(tw.svc.UseLocalGateway), "Local gateway", "OpenClaw now uses this computer's gateway.", "OpenClaw not switched", win)
}

func (tw *teamWindow) callCtx(call func(context.Context) ([]string, error)) func() error {
	return func() error {
		ctx, cancel := context.WithTimeout(context.Background(), teamTimeout)
		defer cancel()
		_, err := call(ctx)
		return err
	}
}

func (tw *teamWindow) confirmLeave() {
	dialog.ShowConfirm("Leave the team gateway?",
		"OpenClaw goes back to this computer's gateway and the team key is deleted from the keychain. "+
			"To come back you need the key again.", func(ok bool) {
			if ok {
				tw.leaveNow()
			}
		}, tw.w)
}

func (tw *teamWindow) leaveNow() {
	var win fyne.Window
	if tw.visible {
		win = tw.w
	}
	tw.g.run(tw.callCtx(tw.svc.LeaveTeam), "Left the team gateway", "OpenClaw uses this computer's gateway again.", "Could not leave the team", win)
}

// teamItems is the tray's part for a team gateway: "Join a team gateway…" until one is joined,
// then a submenu titled with the key's spend and budget, whose items switch OpenClaw between the
// team and this computer's gateway in one click (the one in use checked: Fyne has no radio items).
func teamItems(s app.Status) []item {
	t := s.Team
	if !t.Joined() {
		return []item{{Label: "Join a team gateway…", Action: actShowTeam}}
	}
	using := s.UsingTeam()
	return []item{{Label: truncate(t.SpendLine()), Children: []item{
		{Label: truncate(t.URL), Disabled: true},
		{Separator: true},
		{Label: "Use the team gateway", Action: actUseTeam, Checked: using},
		{Label: "Use the local gateway", Action: actUseLocal, Checked: !using},
		{Separator: true},
		{Label: "Team details…", Action: actShowTeam},
		{Label: "Leave team…", Action: actLeaveTeam},
	}}}
}

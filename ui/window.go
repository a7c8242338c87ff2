package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/clawgate/clawgate/app"
)

// statusWindow shows what the gateway is doing and how to point OpenClaw at it.
type statusWindow struct {
	w       fyne.Window
	visible bool

	icon    *canvas.Image
	state   *widget.Label
	url     *widget.Label
	models  *widget.Label
	config  *widget.Label
	snippet *widget.Label
	copyURL *widget.Button
	openDir *widget.Button
}

// windowActions are what the window's buttons do; the gui supplies them.
type windowActions struct {
	copyURL     func()
	copySnippet func()
	openFolder  func()
}

func newStatusWindow(a fyne.App, act windowActions) *statusWindow {
	sw := &statusWindow{
		w:       a.NewWindow("Clawgate"),
		icon:    canvas.NewImageFromResource(trayResource(iconPaused)),
		state:   widget.NewLabel(""),
		url:     widget.NewLabel(""),
		models:  widget.NewLabel(""),
		config:  widget.NewLabel(""),
		snippet: widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Monospace: true}),
	}
	sw.icon.FillMode = canvas.ImageFillContain
	sw.icon.SetMinSize(fyne.NewSquareSize(32))
	sw.state.TextStyle.Bold = true
	sw.state.Truncation = fyne.TextTruncateEllipsis
	sw.models.Wrapping = fyne.TextWrapWord
	sw.config.Wrapping = fyne.TextWrapBreak
	// Selectable so they can be copied by hand too; the snippet is a monospace label rather than a
	// rich-text code block, which clipped underscores at this size.
	sw.url.Selectable = true
	sw.config.Selectable = true
	sw.snippet.Selectable = true

	sw.copyURL = widget.NewButtonWithIcon("Copy base URL", theme.ContentCopyIcon(), act.copyURL)
	copySnippet := widget.NewButtonWithIcon("Copy snippet", theme.ContentCopyIcon(), act.copySnippet)
	sw.openDir = widget.NewButtonWithIcon("Open config folder", theme.FolderOpenIcon(), act.openFolder)

	form := container.New(layout.NewFormLayout(),
		widget.NewLabel("Base URL"), sw.url,
		widget.NewLabel("Models"), sw.models,
		widget.NewLabel("Config"), sw.config,
	)
	how := widget.NewLabel("OpenClaw > Connect OpenClaw in the tray (or `clawgate openclaw connect`) does this for you. " +
		"By hand, add this provider to OpenClaw's config (~/.openclaw/openclaw.json):")
	how.Wrapping = fyne.TextWrapWord
	// The body scrolls, so a long model list neither grows the window past the screen nor pins
	// its minimum size; the snippet scrolls sideways rather than being cut.
	body := container.NewVScroll(container.NewVBox(
		form,
		widget.NewSeparator(),
		widget.NewLabelWithStyle("Point OpenClaw at it", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		how,
		container.NewHScroll(sw.snippet),
	))
	content := container.NewBorder(
		container.NewBorder(nil, nil, sw.icon, nil, sw.state), // a long problem is cut, not a wider window
		container.NewHBox(sw.copyURL, copySnippet, layout.NewSpacer(), sw.openDir),
		nil, nil, body)
	sw.w.SetContent(container.NewPadded(content))
	sw.w.Resize(fyne.NewSize(680, 560))
	return sw
}

// update redraws the window for s; call on the Fyne goroutine.
func (sw *statusWindow) update(s app.Status) {
	sw.icon.Resource = trayResource(iconFor(s))
	sw.icon.Refresh()

	// The icon beside it carries the colour: Fyne's success green and error red are too pale to
	// read as text on the light theme (1.5:1 and 3.7:1 against white), the foreground passes both.
	sw.state.SetText(statusLine(s))

	url := baseURL(s)
	if url == "" {
		sw.url.SetText("(not listening)")
		sw.copyURL.Disable()
	} else {
		sw.url.SetText(url)
		sw.copyURL.Enable()
	}
	if len(s.Models) == 0 {
		sw.models.SetText("none configured yet")
	} else {
		sw.models.SetText(strings.Join(s.Models, ", "))
	}
	if s.ConfigPath == "" {
		sw.config.SetText("(built-in)")
		sw.openDir.Disable()
	} else {
		sw.config.SetText(s.ConfigPath)
		sw.openDir.Enable()
	}

	sw.snippet.SetText(openClawSnippet(s))
}

func (sw *statusWindow) show() {
	sw.visible = true
	sw.w.Show()
	sw.w.RequestFocus()
}

func (sw *statusWindow) hide() {
	sw.visible = false
	sw.w.Hide()
}

package ui

import (
	"image/color"
	"math"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/clawgate/clawgate/app"
)

// labelColour is the theme colour a label draws its text in (widget.Label's own mapping).
func labelColour(l *widget.Label) fyne.ThemeColorName {
	switch l.Importance {
	case widget.LowImportance:
		return theme.ColorNameDisabled
	case widget.HighImportance:
		return theme.ColorNamePrimary
	case widget.DangerImportance:
		return theme.ColorNameError
	case widget.WarningImportance:
		return theme.ColorNameWarning
	case widget.SuccessImportance:
		return theme.ColorNameSuccess
	}
	return theme.ColorNameForeground
}

// contrast is WCAG 2's contrast ratio of two colours.
func contrast(a, b color.Color) float64 {
	lum := func(c color.Color) float64 {
		r, g, bl, _ := c.RGBA()
		ch := func(v uint32) float64 {
			s := float64(v) / 0xffff
			if s <= 0.03928 {
				return s / 12.92
			}
			return math.Pow((s+0.055)/1.055, 2.4)
		}
		return 0.2126*ch(r) + 0.7152*ch(g) + 0.0722*ch(bl)
	}
	x, y := lum(a), lum(b)
	if x < y {
		x, y = y, x
	}
	return (x + 0.05) / (y + 0.05)
}

func TestContrastSelf(t *testing.T) {
	if got := contrast(color.White, color.Black); math.Abs(got-21) > 0.01 {
		t.Errorf("white on black %.2f, want 21", got)
	}
	// The green the status line used to have on the light theme: the figure the review measured.
	if got := contrast(theme.DefaultTheme().Color(theme.ColorNameSuccess, theme.VariantLight), color.White); got > 1.6 {
		t.Errorf("success green on white %.2f", got)
	}
}

// Every label in the windows, in every gateway state, reads at WCAG AA (4.5:1) on the light and the
// dark theme.
func TestLabelsReadable(t *testing.T) {
	_, _, g := openActivity(t, sampleActivity(), tabRequests)

	failed := app.Status{State: app.StateError, Err: app.ErrPortInUse, Addr: "127.0.0.1:4000"}
	for _, st := range []app.Status{running, failed, {}} {
		g.apply(st)
		for _, w := range []fyne.Window{g.mainWin().w, g.activityWin().w} {
			assertReadable(t, st.State.String(), w.Content())
		}
	}
}

// assertReadable checks that every label under o reads at WCAG AA (4.5:1) on the light and the
// dark theme; where names the case in messages.
func assertReadable(t *testing.T, where string, o fyne.CanvasObject) {
	t.Helper()
	for _, o := range test.LaidOutObjects(o) {
		l, ok := o.(*widget.Label)
		if !ok || l.Text == "" {
			continue
		}
		for _, v := range variants {
			fg := theme.DefaultTheme().Color(labelColour(l), v.v)
			bg := theme.DefaultTheme().Color(theme.ColorNameBackground, v.v)
			if c := contrast(fg, bg); c < 4.5 {
				t.Errorf("%s, %s: %q at %.2f:1", where, v.name, l.Text, c)
			}
		}
	}
}

package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// prefTheme keeps the Settings window's theme choice: "system" (the default), "light" or "dark".
const prefTheme = "ui.theme"

// Theme choices as the Settings window lists them, by preference value.
var themeChoices = []struct{ value, label string }{
	{"system", "Follow the system"}, {"light", "Light"}, {"dark", "Dark"},
}

// fixedVariant is Fyne's default theme held to one variant (Fyne follows the system otherwise).
type fixedVariant struct {
	fyne.Theme
	v fyne.ThemeVariant
}

func (t fixedVariant) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	return t.Theme.Color(n, t.v)
}

// applyTheme puts the theme choice in force.
func applyTheme(a fyne.App, choice string) {
	switch choice {
	case "light":
		a.Settings().SetTheme(fixedVariant{theme.DefaultTheme(), theme.VariantLight})
	case "dark":
		a.Settings().SetTheme(fixedVariant{theme.DefaultTheme(), theme.VariantDark})
	default:
		a.Settings().SetTheme(theme.DefaultTheme())
	}
}

package ui

import "github.com/clawgate/clawgate/app"

// The editors turn on by interface: if *app.App stopped implementing one (a renamed method), the
// tray app would silently lose that editor. These fail the build instead.
var (
	_ routeService    = (*app.App)(nil)
	_ keyService      = (*app.App)(nil)
	_ secretService   = (*app.App)(nil)
	_ requestService  = (*app.App)(nil)
	_ overviewService = (*app.App)(nil)
)

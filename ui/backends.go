package ui

import (
	"strconv"

	"github.com/clawgate/clawgate/app"
)

// backendService is what the tray's Backend submenus and the Routes tab's backend choice call
// (*app.App implements it); UseBackend writes config.yaml, so it runs off the Fyne goroutine.
type backendService interface {
	UseBackend(index int) error
}

// backendMenus is one "Backend for MODEL" submenu per model served by several deployments, the one
// serving now checked (none while requests are spread over several).
func backendMenus(s app.Status) []item {
	var out []item
	for _, g := range s.Backends {
		var kids []item
		for i, b := range g.Backends {
			kids = append(kids, item{Label: truncate(b.Label), Action: actUseBackend, Arg: strconv.Itoa(b.Index), Checked: i == g.Current})
		}
		out = append(out, item{Label: truncate("Backend for " + g.Group), Children: kids})
	}
	return out
}

// useBackend checks the chosen deployment at once (Fyne has no radio items) and writes the choice
// in the background; the service's status afterwards says what is in force.
func (g *gui) useBackend(arg string) {
	bs, ok := g.svc.(backendService)
	index, err := strconv.Atoi(arg)
	if !ok || err != nil {
		return
	}
	s := g.status
	s.Backends = chooseBackend(s.Backends, index)
	label := backendLabel(s.Backends, index)
	g.apply(s)
	g.background(func() error { return bs.UseBackend(index) },
		"Backend", label+" now serves its model.", "Backend not changed")
}

// chooseBackend is gs with the deployment at model_list index made current (a copy).
func chooseBackend(gs []app.BackendGroup, index int) []app.BackendGroup {
	out := make([]app.BackendGroup, len(gs))
	for i, g := range gs {
		out[i] = g
		for j, b := range g.Backends {
			if b.Index == index {
				out[i].Current = j
			}
		}
	}
	return out
}

func backendLabel(gs []app.BackendGroup, index int) string {
	for _, g := range gs {
		for _, b := range g.Backends {
			if b.Index == index {
				return b.Label
			}
		}
	}
	return "The deployment"
}

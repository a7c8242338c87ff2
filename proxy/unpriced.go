package proxy

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/clawgate/clawgate/proxy/pricing"
	"github.com/clawgate/clawgate/proxy/route"
)

// BudgetChecker is an optional Gate method: whether the principal's key has a budget of its own.
// A key with a budget must not call a route whose spend cannot be counted.
type BudgetChecker interface {
	HasBudget(p *Principal) bool
}

// priced reports whether a deployment's upstream model has a price: from the table, a cost map,
// or model_info (input and output cost 0 declares a route free, which counts as priced).
func priced(d *route.Deployment, model string) bool {
	m := d.Model
	if m == "" || strings.Contains(m, "*") {
		m = model
	}
	_, ok := pricing.Cost(priceFor(d, m), pricing.Usage{})
	return ok
}

// unpricedIn returns the deployments of group that would serve model without a price.
func unpricedIn(deps []*route.Deployment, group, model string) []*route.Deployment {
	var out []*route.Deployment
	for _, d := range deps {
		if d.Group == group && !priced(d, model) {
			out = append(out, d)
		}
	}
	return out
}

// howToPrice is the fix named by the load warning and the refusal.
const howToPrice = "add model_info.input_cost_per_token and output_cost_per_token (USD per token) to it in the config, " +
	"set both to 0 to declare it free (a local model), or point general_settings.price_map_url at a cost map that lists it"

// upstreamName is provider/model as written in litellm_params.model.
func upstreamName(d *route.Deployment) string {
	if d.ProviderName == "" {
		return d.Model
	}
	return d.ProviderName + "/" + d.Model
}

// UnpricedRoutes lists one warning per route of the config in force that has no price, naming
// the route, its upstream model and the fix. Wildcard routes are priced per request and left out.
func (s *Server) UnpricedRoutes() []string {
	var out []string
	for _, d := range s.state.Load().deps {
		if d.Model == "" || strings.Contains(d.Model, "*") || strings.Contains(d.Group, "*") || priced(d, d.Model) {
			continue
		}
		out = append(out, fmt.Sprintf("route %q (%s) has no price, so its spend counts as $0 and keys with a budget are refused on it: %s",
			d.Group, upstreamName(d), howToPrice))
	}
	sort.Strings(out)
	return out
}

// unpricedError refuses a budgeted key on an unpriced route: a 400, since retrying cannot help.
type unpricedError struct {
	route, upstream string
}

func (e *unpricedError) Error() string {
	return fmt.Sprintf("route %q (%s) has no price, and this key has a budget that its spend could not be counted against. "+
		"To use it, %s.", e.route, e.upstream, howToPrice)
}

func (e *unpricedError) HTTPStatus() (int, string, time.Duration, map[string]any) {
	return http.StatusBadRequest, typeInvalidRequest, 0, map[string]any{"route": e.route, "upstream_model": e.upstream, "unpriced": true}
}

// refuseUnpriced is the check made before admission: a key with a budget calling a route that has
// an unpriced deployment is refused; the master key and keys without a budget are served (their
// rows are marked unpriced).
func (s *Server) refuseUnpriced(p *Principal, deps []*route.Deployment, group, model string) error {
	if p == nil || p.Master {
		return nil
	}
	bc, ok := s.gate.(BudgetChecker)
	if !ok || !bc.HasBudget(p) {
		return nil
	}
	ds := unpricedIn(deps, group, model)
	if len(ds) == 0 {
		return nil
	}
	up := upstreamName(ds[0])
	if strings.Contains(ds[0].Model, "*") {
		up = ds[0].ProviderName + "/" + model
	}
	return &unpricedError{route: group, upstream: up}
}

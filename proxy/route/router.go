package route

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/clawgate/clawgate/proxy/config"
	"github.com/clawgate/clawgate/proxy/provider"
)

// maxHintWait caps how long a retry waits on an upstream's retry-after hint: a longer hint is
// better served by another deployment or a fallback than by holding the client.
const maxHintWait = time.Second

// Settings is the router's part of router_settings. Zero values are taken literally (defaults
// are the config's business): no retries, no wait, and no cooldowns, since CooldownTime <= 0
// disables them; with a CooldownTime set, AllowedFails 0 cools a deployment on its first failure.
type Settings struct {
	// NumRetries is the number of extra attempts inside a group before falling back.
	NumRetries int
	// AllowedFails is the number of failures a deployment may have within a minute before it cools down.
	AllowedFails int
	CooldownTime time.Duration
	// RetryAfter is the minimum wait before a retry inside a group.
	RetryAfter time.Duration
	// Fallbacks lists, per group, the groups tried once it is exhausted.
	Fallbacks []config.Fallback
	// Now is the clock (nil = time.Now); tests move it to expire cooldowns.
	Now func() time.Time
}

// SettingsFrom takes the router's settings from a parsed config.
func SettingsFrom(rs config.RouterSettings) Settings {
	return Settings{
		NumRetries:   rs.NumRetries,
		AllowedFails: rs.AllowedFails,
		CooldownTime: rs.CooldownTime,
		RetryAfter:   rs.RetryAfter,
		Fallbacks:    rs.Fallbacks,
	}
}

// Result says how a request was served; the gateway turns it into x-litellm-* headers and logs.
// Do fills it with the last deployment tried even when it returns an error.
type Result struct {
	Deployment    *Deployment
	UpstreamModel string
	// Group is the group of the last deployment tried (the one that succeeded, on success).
	Group string
	// RequestedGroup is the group the requested model resolved to.
	RequestedGroup string
	// Retries counts attempts beyond the first, across all groups.
	Retries int
	// Fallbacks counts fallback groups in which an attempt was made.
	Fallbacks int
}

// Router maps requested models to groups and runs attempts with retries, fallbacks and cooldowns.
// Its tables are fixed by New; only the deployments' health changes, so Do is safe to call
// from many goroutines.
type Router struct {
	s     Settings
	now   func() time.Time
	rnd   func() float64
	sleep func(ctx context.Context, d time.Duration) error

	exact     map[string]*group
	patterns  []*group // sorted, see sortPatterns; catch-alls apart
	catchAll  []*group // patterns of stars only ("*"), tried last
	names     []string // public names in config order
	fallbacks map[string][]string
}

// New builds a router over deps. Deployments sharing a Group form one group, in the order given.
func New(deps []*Deployment, s Settings) *Router {
	r := &Router{
		s:         s,
		now:       s.Now,
		rnd:       rand.Float64,
		sleep:     sleepCtx,
		exact:     map[string]*group{},
		fallbacks: map[string][]string{},
	}
	if r.now == nil {
		r.now = time.Now
	}
	r.s.NumRetries = max(r.s.NumRetries, 0)
	byName := map[string]*group{}
	var all []*group
	for _, d := range deps {
		if d == nil {
			continue
		}
		g := byName[d.Group]
		if g == nil {
			g = &group{name: d.Group}
			if isPattern(d.Group) {
				g.pat = compilePattern(d.Group)
				if strings.Trim(d.Group, "*") == "" {
					r.catchAll = append(r.catchAll, g)
				} else {
					r.patterns = append(r.patterns, g)
				}
			} else {
				r.exact[d.Group] = g
			}
			byName[d.Group] = g
			all = append(all, g)
			r.names = append(r.names, d.Group)
		}
		g.members = append(g.members, &member{d: d})
	}
	for _, g := range all {
		weightsFor(g.members)
		g.tiers = ordersFor(g.members)
	}
	sortPatterns(r.patterns)
	sortPatterns(r.catchAll)
	for _, f := range s.Fallbacks {
		r.fallbacks[f.Group] = append(r.fallbacks[f.Group], f.To...)
	}
	return r
}

// Groups returns the public model names in config order, wildcards included.
func (r *Router) Groups() []string {
	return append([]string(nil), r.names...)
}

// Lookup reports which group serves a requested model name.
func (r *Router) Lookup(model string) (group string, ok bool) {
	var buf [4]string
	g, _, _ := r.resolve(model, buf[:0])
	if g == nil {
		return "", false
	}
	return g.name, true
}

// resolve finds the group for model: an exact model_name first, then the wildcard groups in
// sorted order. A bare name ("claude-3-haiku") that no pattern takes as typed is tried as
// "{provider}/{name}" before the catch-all patterns ("*"), so "anthropic/*" serves it rather
// than "*". It returns the string the pattern matched and its captures, for substitution.
func (r *Router) resolve(model string, caps []string) (*group, string, []string) {
	if g := r.exact[model]; g != nil {
		return g, model, caps[:0]
	}
	for _, g := range r.patterns {
		if c, ok := g.pat.match(model, caps[:0]); ok {
			return g, model, c
		}
	}
	if len(r.patterns) > 0 && strings.IndexByte(model, '/') < 0 {
		if p, ok := InferProvider(model); ok {
			prefixed := p + "/" + model
			for _, g := range r.patterns {
				if c, ok := g.pat.match(prefixed, caps[:0]); ok {
					return g, prefixed, c
				}
			}
		}
	}
	for _, g := range r.catchAll {
		if c, ok := g.pat.match(model, caps[:0]); ok {
			return g, model, c
		}
	}
	return nil, "", caps
}

// fallbacksFor lists the fallback groups for a request: those configured for the exact name the
// client sent, else for its group, else the generic "*" entry.
func (r *Router) fallbacksFor(model, group string) []string {
	if len(r.fallbacks) == 0 {
		return nil
	}
	if f, ok := r.fallbacks[model]; ok {
		return f
	}
	if f, ok := r.fallbacks[group]; ok {
		return f
	}
	return r.fallbacks["*"]
}

// runState is what one Do call carries across groups.
type runState struct {
	retries  int // extra attempts allowed in each group
	attempts int
	lastErr  error
	// earliest is when the first cooling deployment of a skipped group is free (Unix ns, 0 = none).
	earliest int64
	seen     [8]*group
	nseen    int
	more     []*group // groups beyond len(seen), rare
}

func (st *runState) visit(g *group) bool {
	for _, s := range st.seen[:st.nseen] {
		if s == g {
			return false
		}
	}
	for _, s := range st.more {
		if s == g {
			return false
		}
	}
	if st.nseen < len(st.seen) {
		st.seen[st.nseen] = g
		st.nseen++
	} else {
		st.more = append(st.more, g)
	}
	return true
}

// Allow says whether the caller may use group, reached through the model name model (the
// requested one, or a fallback's). A key's model list is one.
type Allow func(model, group string) bool

// Do serves one request for model: it calls attempt with a deployment of the model's group and the
// upstream model id, retrying inside the group and then trying the configured fallback groups.
// It returns nil once an attempt succeeds, *UnknownModelError when no group serves model,
// *CooldownError when everything usable was cooling down, and otherwise the last attempt's error.
func (r *Router) Do(ctx context.Context, model string, attempt func(ctx context.Context, d *Deployment, upstreamModel string) error) (Result, error) {
	return r.DoAllowed(ctx, model, nil, attempt)
}

// DoAllowed is Do for a caller limited by allow (nil allows everything): a group it refuses,
// the requested one or a fallback, is skipped and never called. When any was skipped, the error
// is a *NotAllowedError naming them, wrapping the error the request ended with, if any.
func (r *Router) DoAllowed(ctx context.Context, model string, allow Allow,
	attempt func(ctx context.Context, d *Deployment, upstreamModel string) error) (Result, error) {
	return r.DoWith(ctx, model, Options{Allow: allow}, attempt)
}

// DoWith is DoAllowed with the request's own routing options (see Options).
func (r *Router) DoWith(ctx context.Context, model string, o Options,
	attempt func(ctx context.Context, d *Deployment, upstreamModel string) error) (Result, error) {
	allow := o.Allow
	var buf [4]string
	g, subject, caps := r.resolve(model, buf[:0])
	if g == nil {
		return Result{}, &UnknownModelError{Model: model, Available: r.Groups()}
	}
	res := Result{RequestedGroup: g.name}
	st := runState{retries: r.s.NumRetries}
	if o.NumRetries != nil {
		st.retries = max(*o.NumRetries, 0)
	}
	st.visit(g)
	var skipped []string
	if allow == nil || allow(model, g.name) {
		if done, err := r.runGroup(ctx, g, subject, caps, false, &res, &st, attempt); done {
			return res, err
		}
	} else {
		skipped = append(skipped, g.name)
	}
	// Fallbacks are not chained: only the requested group's list is followed.
	fallbacks := r.fallbacksFor(model, g.name)
	if o.Fallbacks != nil {
		fallbacks = o.Fallbacks
	}
	for _, name := range fallbacks {
		var fbuf [4]string
		fg, fsub, fcaps := r.resolve(name, fbuf[:0])
		if fg == nil || !st.visit(fg) {
			continue // a fallback to nothing, or to a group already tried, is skipped
		}
		if allow != nil && !allow(name, fg.name) {
			skipped = append(skipped, fg.name)
			continue
		}
		if done, err := r.runGroup(ctx, fg, fsub, fcaps, true, &res, &st, attempt); done {
			return res, err
		}
	}
	var err error
	switch {
	case st.attempts > 0:
		err = st.lastErr
	case ctx.Err() != nil:
		err = ctx.Err()
	case len(skipped) > 0 && skipped[0] == g.name && st.earliest == 0:
		err = nil // nothing was cooling down: every candidate was refused
	default:
		err = &CooldownError{Group: g.name, RetryAfter: retryAfterFrom(r.now(), time.Unix(0, st.earliest))}
	}
	if len(skipped) > 0 {
		return res, &NotAllowedError{Model: model, Skipped: skipped, Err: err}
	}
	return res, err
}

// errClass is what an attempt's failure means for the rest of the request.
type errClass int

const (
	// classRetry: the upstream may answer next time (408, 409, 429, 5xx, transport).
	classRetry errClass = iota
	// classClient: the request itself is bad; it would fail on any deployment.
	classClient
	// classDeployment: this deployment is misconfigured (key, access, model id); others may work.
	classDeployment
	// classOther: any other refusal; move on without holding it against the deployment.
	classOther
)

func classify(e *provider.Error) errClass {
	if e.Transport {
		return classRetry
	}
	switch e.Status {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
		return classClient
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		return classDeployment
	}
	if e.Retryable() {
		return classRetry
	}
	return classOther
}

// runGroup makes up to 1+st.retries attempts in g. done is true when the request is over (success,
// a client error, or the context ended); otherwise the caller moves on to the next group.
func (r *Router) runGroup(ctx context.Context, g *group, subject string, caps []string, fallback bool,
	res *Result, st *runState, attempt func(context.Context, *Deployment, string) error) (done bool, err error) {
	var tried, excluded marks
	last, lastHint, made := -1, time.Duration(0), 0
	for made <= st.retries {
		if err := ctx.Err(); err != nil {
			return true, err
		}
		i, free := g.pick(r.now, r.rnd, &tried, &excluded)
		if i < 0 {
			if !free.IsZero() && (st.earliest == 0 || free.UnixNano() < st.earliest) {
				st.earliest = free.UnixNano()
			}
			return false, nil
		}
		if made > 0 {
			w := r.s.RetryAfter
			if i == last && lastHint > 0 {
				w = max(w, min(lastHint, maxHintWait))
			}
			if w > 0 {
				if err := r.sleep(ctx, w); err != nil {
					return true, err
				}
			}
		}
		m := g.members[i]
		up := upstreamModel(m.d, subject, caps)
		res.Deployment, res.UpstreamModel, res.Group = m.d, up, g.name
		if st.attempts > 0 {
			res.Retries++
		}
		if made == 0 && fallback {
			res.Fallbacks++
		}
		st.attempts++
		made++
		aerr := attempt(ctx, m.d, up)
		if aerr == nil {
			m.health.succeeded()
			return true, nil
		}
		st.lastErr = aerr
		if ctx.Err() != nil {
			// The client left or the deadline passed; that says nothing about the deployment.
			return true, aerr
		}
		pe := provider.AsError(aerr)
		switch classify(pe) {
		case classClient:
			return true, aerr
		case classDeployment:
			m.health.failed(r.now(), &r.s, false, 0)
			excluded.set(i)
		case classOther:
			excluded.set(i)
		case classRetry:
			var hint time.Duration
			if pe.Status == http.StatusTooManyRequests {
				hint = pe.RetryAfter
			}
			m.health.failed(r.now(), &r.s, pe.Status == http.StatusTooManyRequests && len(g.members) > 1, hint)
		}
		tried.set(i)
		last, lastHint = i, pe.RetryAfter
	}
	return false, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/clawgate/clawgate/proxy"
	"github.com/clawgate/clawgate/proxy/config"
	"github.com/clawgate/clawgate/proxy/pricing"
	"github.com/clawgate/clawgate/proxy/provider"
	"github.com/clawgate/clawgate/proxy/route"
)

// RouteTest is what a one-token call through a route gave.
type RouteTest struct {
	Route   string
	OK      bool
	Latency time.Duration
	// Answer is the model's reply (one token of it); Error the upstream's or the setup's error.
	Answer, Error string
	// InputPerMTok and OutputPerMTok are the price per million tokens (nil when unknown).
	InputPerMTok, OutputPerMTok *float64
}

// testPrompt asks for a one-token answer; max_tokens keeps the call at one token whatever comes.
const testPrompt = `{"model":%q,"messages":[{"role":"user","content":"Reply with the single word OK."}],"max_tokens":1}`

// TestRoute makes a one-token call through r as the gateway would serve it: the entry is read by
// the config parser, its secrets resolved (or secret used, for a key typed but not saved yet), and
// its provider built by the gateway's own factory. It calls the network: off the UI goroutine.
func (a *App) TestRoute(ctx context.Context, r RouteSpec, secret string) RouteTest {
	item := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	applySpec(item, r)
	return a.testItem(ctx, r, item, secret)
}

// TestSavedRoute tests entry index of config.yaml as written, every key of it (headers, rpm,
// model_info) included.
func (a *App) TestSavedRoute(ctx context.Context, index int) RouteTest {
	f, err := readConfigFile(a.opts.ConfigPath)
	if err != nil {
		return RouteTest{Error: err.Error()}
	}
	items, _ := f.items()
	if index < 0 || index >= len(items) {
		return RouteTest{Error: fmt.Sprintf("route %d is gone from the file", index)}
	}
	return a.testItem(ctx, specOf(items[index]), copyNode(items[index]), "")
}

// testItem makes the one-token call through the entry item (r is it as the form reads it).
func (a *App) testItem(ctx context.Context, r RouteSpec, item *yaml.Node, secret string) RouteTest {
	out := RouteTest{Route: r.Name}
	p, _ := PresetByID(r.Preset)
	if strings.Contains(r.Model, "*") {
		out.Error = "a wildcard route: test one of the models it serves"
		return out
	}
	if pr, ok := pricing.Lookup(p.Prefix, r.Model); ok {
		out.InputPerMTok, out.OutputPerMTok = perMillion(pr.InputCostPerToken), perMillion(pr.OutputCostPerToken)
	}
	dep, err := a.buildOne(item, secret)
	if err != nil {
		out.Error = err.Error()
		return out
	}
	start := time.Now()
	resp, err := dep.Provider.Chat(ctx, &provider.Request{Body: fmt.Appendf(nil, testPrompt, dep.Model), Model: dep.Model})
	out.Latency = time.Since(start)
	if err != nil {
		var pe *provider.Error
		if errors.As(err, &pe) && pe.Message != "" {
			out.Error = fmt.Sprintf("%d: %s", pe.Status, pe.Message)
		} else {
			out.Error = err.Error()
		}
		return out
	}
	if resp.Stream != nil {
		resp.Stream.Close()
	}
	var body struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(resp.Body, &body); err != nil {
		out.Error = "the answer is not a chat completion: " + err.Error()
		return out
	}
	out.OK = true
	if len(body.Choices) > 0 {
		out.Answer = body.Choices[0].Message.Content
	}
	return out
}

// buildOne builds the provider of one model_list entry the way a reload does.
func (a *App) buildOne(item *yaml.Node, secret string) (*route.Deployment, error) {
	doc := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: "model_list"},
		{Kind: yaml.SequenceNode, Tag: "!!seq", Content: []*yaml.Node{item}},
	}}
	text, err := yaml.Marshal(doc)
	if err != nil {
		return nil, err
	}
	cfg, _, err := config.Parse(text, "route", os.LookupEnv)
	if err != nil {
		return nil, err
	}
	if secret != "" {
		cfg.ModelList[0].Params.APIKey = secret
	} else if err := resolveSecrets(cfg, a.secrets); err != nil {
		return nil, err
	}
	deps, err := route.Build(cfg, proxy.NewProvider)
	if err != nil {
		return nil, err
	}
	return deps[0], nil
}

// perMillion is a per-token price per million tokens, rounded clear of float noise.
func perMillion(perToken *float64) *float64 {
	if perToken == nil {
		return nil
	}
	v := math.Round(*perToken*1e12) / 1e6
	return &v
}

package config

import (
	"time"

	"go.yaml.in/yaml/v3"
)

// router_settings keys LiteLLM documents that Clawgate does not honour yet. Anything else not typed
// below is reported as unknown, which catches typos such as num_retry.
var unsupportedRouter = set("routing_strategy", "routing_strategy_args", "redis_host", "redis_port",
	"redis_password", "redis_url", "cache_responses", "cache_kwargs", "caching_groups", "client_ttl",
	"stream_timeout", "default_max_parallel_requests", "polling_interval", "max_fallbacks",
	"context_window_fallbacks", "content_policy_fallbacks", "default_fallbacks", "retry_policy",
	"model_group_retry_policy", "allowed_fails_policy", "disable_cooldowns", "enable_pre_call_checks",
	"enable_tag_filtering", "model_group_alias", "provider_budget_config", "optional_pre_call_checks",
	"set_verbose", "debug_level", "default_litellm_params", "default_priority", "alerting_config",
	"router_general_settings", "assistants_config")

// general_settings keys LiteLLM documents that Clawgate does not honour yet; kept in Extra.
var unsupportedGeneral = set("database_connection_pool_limit",
	"database_connection_timeout", "allow_requests_on_db_unavailable", "disable_prisma_schema_update",
	"store_model_in_db", "disable_spend_logs", "disable_spend_updates",
	"disable_error_logs", "proxy_batch_write_at",
	"proxy_budget_rescheduler_min_time", "proxy_budget_rescheduler_max_time", "disable_reset_budget",
	"background_health_checks", "health_check_interval", "health_check_details",
	"alerting_threshold", "alerting_args", "alert_types",
	"spend_report_frequency", "max_parallel_requests", "global_max_parallel_requests",
	"always_include_stream_usage", "forward_client_headers_to_llm_api", "token_rate_limit_type",
	"litellm_key_header_name", "allowed_routes", "public_routes", "admin_only_routes",
	"enforce_user_param", "custom_auth", "user_api_key_cache_ttl", "key_management_system",
	"key_management_settings", "ui_access_mode", "allowed_ips", "use_x_forwarded_for",
	"enable_jwt_auth", "litellm_jwtauth", "pass_through_endpoints", "max_response_size_mb",
	"disable_master_key_return", "infer_model_from_keys", "custom_key_generate", "custom_sso")

// litellm_settings has hundreds of keys (any litellm module setting), so only those that change
// behaviour a user would notice missing are reported; the rest are kept quietly in Extra.
// ledgerGeneral are the general_settings keys the spend ledger reads (database_url: PostgreSQL
// instead of the SQLite file, as LiteLLM's DATABASE_URL).
var ledgerGeneral = set("store_prompts_in_spend_logs", "maximum_spend_logs_retention_period", "alerting", "alert_to_webhook_url",
	"database_url")

// appGeneral are the general_settings keys the app reads: price_map_url, a cost map in LiteLLM's
// format fetched at start and daily (app/prices.go).
var appGeneral = set("price_map_url")

var unsupportedLiteLLM = set("callbacks", "success_callback", "failure_callback", "service_callback",
	"cache", "cache_params", "context_window_fallbacks", "content_policy_fallbacks", "default_fallbacks")

// routerField reads one of the settings router_settings and litellm_settings share; the timeout is
// router_settings.timeout but litellm_settings.request_timeout. It reports whether e was one of them.
func (p *parser) routerField(e entry, r *RouterSettings, timeoutKey string) (bool, error) {
	var ints = map[string]*int{"num_retries": &r.NumRetries, "allowed_fails": &r.AllowedFails}
	var durations = map[string]*time.Duration{timeoutKey: &r.Timeout, "cooldown_time": &r.CooldownTime, "retry_after": &r.RetryAfter}
	if e.key == "fallbacks" {
		fb, err := p.fallbacks(e)
		if err == nil {
			r.Fallbacks = fb
		}
		return true, err
	}
	if dst, ok := ints[e.key]; ok {
		i, present, err := p.integer(e.v, e.path)
		if present {
			*dst = i
		}
		return true, err
	}
	if dst, ok := durations[e.key]; ok {
		d, present, err := p.seconds(e.v, e.path)
		if present {
			*dst = d
		}
		return true, err
	}
	return false, nil
}

func (p *parser) routerSettings(sec entry, r *RouterSettings) error {
	es, err := p.mapping(sec.v, sec.path)
	if err != nil {
		return err
	}
	for _, e := range es {
		ok, err := p.routerField(e, r, "timeout")
		if err != nil {
			return err
		}
		switch {
		case ok:
		case unsupportedRouter[e.key]:
			p.warn(e.k, e.path, "%s is not supported by Clawgate yet (ignored)", e.path)
		default:
			p.warn(e.k, e.path, "unknown key %s (ignored)", e.path)
		}
	}
	return nil
}

// litellmSettings reads the router keys LiteLLM also accepts here (router_settings, read after,
// wins) and keeps the whole section in Extra.
func (p *parser) litellmSettings(sec entry, cfg *Config) error {
	es, err := p.mapping(sec.v, sec.path)
	if err != nil {
		return err
	}
	for _, e := range es {
		if _, err := p.routerField(e, &cfg.Router, "request_timeout"); err != nil {
			return err
		}
		if unsupportedLiteLLM[e.key] {
			p.warn(e.k, e.path, "%s is not supported by Clawgate yet (ignored)", e.path)
		}
		x, err := p.value(e.v, e.path)
		if err != nil {
			return err
		}
		if cfg.LiteLLM.Extra == nil {
			cfg.LiteLLM.Extra = map[string]any{}
		}
		cfg.LiteLLM.Extra[e.key] = x
	}
	return nil
}

func (p *parser) generalSettings(sec entry, g *GeneralSettings) error {
	es, err := p.mapping(sec.v, sec.path)
	if err != nil {
		return err
	}
	for _, e := range es {
		switch e.key {
		case "master_key":
			// Strict, unlike api_key: a master key that silently became "" would turn auth off.
			if g.MasterKey, _, err = p.text(e.v, e.path); err != nil {
				return err
			}
		case "max_request_size_mb":
			if g.MaxRequestSizeMB, _, err = p.number(e.v, e.path); err != nil {
				return err
			}
		case "responses_store_ttl":
			if g.ResponsesStoreTTL, _, err = p.seconds(e.v, e.path); err != nil {
				return err
			}
		case "cors_allow_origins":
			if g.CORSAllowOrigins, err = p.origins(e.v, e.path); err != nil {
				return err
			}
		default:
			switch {
			case ledgerGeneral[e.key], appGeneral[e.key]:
				// Read by the ledger (app/ledger.SettingsFrom) or the app from Extra.
			case unsupportedGeneral[e.key]:
				p.warn(e.k, e.path, "%s is not supported by Clawgate yet (ignored)", e.path)
			default:
				p.warn(e.k, e.path, "unknown key %s (ignored)", e.path)
			}
			x, err := p.value(e.v, e.path)
			if err != nil {
				return err
			}
			if g.Extra == nil {
				g.Extra = map[string]any{}
			}
			g.Extra[e.key] = x
		}
	}
	return nil
}

// fallbacks reads [{"gpt-4o": ["claude-sonnet"]}, ...]. A mapping with several keys, in a list item
// or as the whole value, is accepted too; file order is kept because it is the order of attempts.
func (p *parser) fallbacks(sec entry) ([]Fallback, error) {
	n, err := p.deref(sec.v, sec.path)
	if err != nil {
		return nil, err
	}
	var groups []entry
	switch {
	case isNull(n):
		return nil, nil
	case n.Kind == yaml.MappingNode:
		if groups, err = p.entries(n, sec.path); err != nil {
			return nil, err
		}
	case n.Kind == yaml.SequenceNode:
		for i, item := range n.Content {
			path := index(sec.path, i)
			m, err := p.deref(item, path)
			if err != nil {
				return nil, err
			}
			if m.Kind != yaml.MappingNode {
				return nil, p.errorf(item, path, `want a mapping like {"gpt-4o": ["claude-sonnet"]}, got %s`, describe(m))
			}
			es, err := p.entries(m, path)
			if err != nil {
				return nil, err
			}
			groups = append(groups, es...)
		}
	default:
		return nil, p.errorf(sec.v, sec.path, `want a list like [{"gpt-4o": ["claude-sonnet"]}], got %s`, describe(n))
	}
	out := make([]Fallback, 0, len(groups))
	for _, g := range groups {
		if g.key == "" {
			return nil, p.errorf(g.k, g.path, "empty model group name")
		}
		to, err := p.names(g.v, g.path)
		if err != nil {
			return nil, err
		}
		out = append(out, Fallback{Group: g.key, To: to})
	}
	return out, nil
}

// names reads a list of model group names; a single name is taken as a list of one.
func (p *parser) names(v *yaml.Node, path string) ([]string, error) {
	return p.texts(v, path, "model names", func(it *yaml.Node, ipath, s string, ok bool) (string, error) {
		if !ok || s == "" {
			return "", p.errorf(it, ipath, "empty model name")
		}
		return s, nil
	})
}

// texts reads a list of strings (what names the items, in an error), each checked by check; a
// single string is taken as a list of one.
func (p *parser) texts(v *yaml.Node, path, what string, check func(it *yaml.Node, ipath, s string, ok bool) (string, error)) ([]string, error) {
	n, err := p.deref(v, path)
	if err != nil {
		return nil, err
	}
	items := []*yaml.Node{v}
	switch {
	case isNull(n):
		return nil, nil
	case n.Kind == yaml.SequenceNode:
		items = n.Content
	case n.Kind != yaml.ScalarNode:
		return nil, p.errorf(v, path, "want a list of %s, got %s", what, describe(n))
	}
	out := make([]string, 0, len(items))
	for i, it := range items {
		ipath := path
		if n.Kind == yaml.SequenceNode {
			ipath = index(path, i)
		}
		s, ok, err := p.text(it, ipath)
		if err != nil {
			return nil, err
		}
		if s, err = check(it, ipath, s, ok); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

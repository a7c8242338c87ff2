package route

// Options are one request's own routing choices, LiteLLM's request-body fields, on top of the
// config's router_settings.
type Options struct {
	// Allow limits the groups the caller may reach, the requested one and every fallback (nil
	// allows all). Body fallbacks go through it like configured ones: a key cannot widen its
	// model list by naming a group in "fallbacks".
	Allow Allow
	// Fallbacks, when not nil, replaces the configured fallbacks for this request (the body's
	// "fallbacks"); an empty non-nil list turns them off ("disable_fallbacks").
	Fallbacks []string
	// NumRetries, when set, replaces router_settings.num_retries for this request.
	NumRetries *int
}

package route

import (
	"fmt"
	"strings"
	"time"
)

// UnknownModelError means no model_name, exact or wildcard, serves the requested model. The
// gateway answers it with 400, as LiteLLM does.
type UnknownModelError struct {
	Model string
	// Available lists the public model names (wildcards included) in config order.
	Available []string
}

func (e *UnknownModelError) Error() string {
	msg := fmt.Sprintf("Invalid model name passed in model=%s. Call `/v1/models` to view available models for your key.", e.Model)
	if len(e.Available) > 0 {
		msg += " Available models: " + strings.Join(e.Available, ", ")
	}
	return msg
}

// CooldownError means every deployment of every group the request could use is cooling down and
// nothing was attempted. The gateway answers 429 with a retry-after of RetryAfter.
type CooldownError struct {
	// Group is the requested model group.
	Group string
	// RetryAfter is the time until the first deployment is free, rounded up to whole seconds (>= 1s).
	RetryAfter time.Duration
}

func (e *CooldownError) Error() string {
	return fmt.Sprintf("No deployments available for selected model, Try again in %d seconds. Passed model=%s.",
		int64(e.RetryAfter/time.Second), e.Group)
}

// retryAfterFrom rounds the wait until t up to whole seconds, at least one, so a retry-after header
// never tells a client to come back before the deployment is free.
func retryAfterFrom(now, t time.Time) time.Duration {
	d := t.Sub(now)
	if d <= time.Second {
		return time.Second
	}
	return (d + time.Second - 1).Truncate(time.Second)
}

// NotAllowedError means groups the request could reach were skipped because its caller may not
// use them (a key's models list): a fallback into a forbidden group is never taken. Err is how the
// request ended otherwise; nil when every candidate was skipped.
type NotAllowedError struct {
	Model string
	// Skipped are the groups not tried, in the order they came up.
	Skipped []string
	Err     error
}

func (e *NotAllowedError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("No deployment this key may use can serve model=%s: %s. %s",
			e.Model, e.Note(), "Add them to the key's models to allow them.")
	}
	return e.Err.Error() + " (" + e.Note() + ")"
}

// Note says which groups were skipped and why, to add to the message of the error it wraps.
func (e *NotAllowedError) Note() string {
	return fmt.Sprintf("not tried, as the key's models do not include them: %s", strings.Join(e.Skipped, ", "))
}

func (e *NotAllowedError) Unwrap() error { return e.Err }

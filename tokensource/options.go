package tokensource

import (
	"fmt"
	"github.com/grpccreds/grpccreds/internal/engine"
	"log/slog"
	"time"
)

// Option configures the refresh engine built by [Refreshing].
type Option func(*config)

type config struct {
	clock
	refreshBefore time.Duration
	leeway        time.Duration
	jitter        float64
	fetchTimeout  time.Duration
	backoffBase   time.Duration
	backoffMax    time.Duration
	observer      func(Event)
	logger        *slog.Logger
}

func newConfig(src any, opts []Option) (config, error) {
	c := config{
		refreshBefore: 5 * time.Minute,
		leeway:        30 * time.Second,
		jitter:        0.1,
		fetchTimeout:  30 * time.Second,
		backoffBase:   time.Second,
		backoffMax:    2 * time.Minute,
	}
	if ft, ok := src.(engine.FetchTimeouter); ok {
		c.fetchTimeout = ft.EngineFetchTimeout()
	}
	for _, o := range opts {
		o(&c)
	}
	return c, c.check()
}

// check refuses settings out of range, naming the option.
func (c config) check() error {
	switch {
	case c.refreshBefore < 0:
		return fmt.Errorf("tokensource: WithRefreshBefore(%v): must not be negative", c.refreshBefore)
	case c.leeway < 0:
		return fmt.Errorf("tokensource: WithLeeway(%v): must not be negative", c.leeway)
	case !(c.jitter >= 0 && c.jitter < 1):
		return fmt.Errorf("tokensource: WithJitter(%v): must be at least 0 and below 1", c.jitter)
	case c.fetchTimeout <= 0:
		return fmt.Errorf("tokensource: WithFetchTimeout(%v): must be positive", c.fetchTimeout)
	case c.backoffBase <= 0 || c.backoffMax < c.backoffBase:
		return fmt.Errorf("tokensource: WithBackoff(%v, %v): base must be positive and max at least base", c.backoffBase, c.backoffMax)
	}
	return nil
}

// WithClock replaces the wall clock, for tests that drive time by hand. The
// engine reads nothing else to judge expiry and refresh points, so moving now
// alone is what a suspended machine looks like to it.
func WithClock(now func() time.Time) Option { return func(c *config) { c.fake = now } }

// WithRefreshBefore sets how long before expiry a background refresh starts
// (default 5 minutes). The refresh starts at the earlier of this point and
// 75% of the token's lifetime, so short-lived tokens refresh in time too.
func WithRefreshBefore(d time.Duration) Option { return func(c *config) { c.refreshBefore = d } }

// WithLeeway sets the clock-skew allowance subtracted from a token's expiry
// (default 30 seconds). It never exceeds a tenth of the token's lifetime, so a
// token that lives 2 seconds is still served for 1.8.
func WithLeeway(d time.Duration) Option { return func(c *config) { c.leeway = d } }

// WithJitter sets the random spread applied to refresh points and retry delays
// as a fraction (default 0.1, i.e. up to 10% earlier). 0 disables it.
func WithJitter(f float64) Option { return func(c *config) { c.jitter = f } }

// WithFetchTimeout bounds each fetch (default 30 seconds, or what the
// source asks for: the sources of tokensource/azure that sign a person in
// ask for minutes). When it passes, the fetch's context is canceled and the
// engine stops waiting; a source that ignores its context (a plain
// oauth2.TokenSource) is abandoned to finish on its own, and its result is
// dropped.
func WithFetchTimeout(d time.Duration) Option { return func(c *config) { c.fetchTimeout = d } }

// WithBackoff sets the first retry delay after a failed fetch and the cap
// (defaults 1 second and 2 minutes). Delays grow by 1.6 per failure. A
// Retry-After from the provider is honoured when it is longer.
func WithBackoff(base, max time.Duration) Option {
	return func(c *config) { c.backoffBase, c.backoffMax = base, max }
}

// WithObserver calls fn for every refresh event. Events arrive in the order
// they happened, one at a time, on a goroutine of the engine (or, for
// [CallerWaited], of the caller that waited); fn should return quickly and
// must not wait for the engine to fetch. Events never carry token text.
func WithObserver(fn func(Event)) Option { return func(c *config) { c.observer = fn } }

// WithLogger logs refresh events to l: started, succeeded and unchanged at
// Debug; failed, invalidated and a source that caches tokens at Warn. No token
// text is logged.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

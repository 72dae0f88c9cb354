package otelgrpccreds

import (
	"context"

	"github.com/grpccreds/grpccreds/serverauth"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"google.golang.org/grpc/codes"
)

// VerifyObserver counts the checks of a [serverauth.Verifier] by outcome and
// cache lookup. Create it with [NewVerifyObserver] and set its Observe
// method as [serverauth.Config.Observer].
type VerifyObserver struct {
	checks metric.Int64Counter
	sets   [3][3][]metric.AddOption // by outcome, then cache lookup
}

// NewVerifyObserver creates the grpccreds.server.verifications counter.
// Only the meter provider of opts is used.
func NewVerifyObserver(opts ...Option) (*VerifyObserver, error) {
	cfg := newConfig(opts)
	checks, err := cfg.meters.Meter(ScopeName).Int64Counter(Verifications, metric.WithUnit("{call}"),
		metric.WithDescription("Checks of incoming calls' tokens, by outcome and cache lookup."))
	if err != nil {
		return nil, err
	}
	o := &VerifyObserver{checks: checks}
	for i, result := range []string{"ok", "unauthenticated", "permission_denied"} {
		for j := range o.sets[i] {
			kv := append(cfg.attrs[:len(cfg.attrs):len(cfg.attrs)], OutcomeKey.String(result), CacheKey.String(serverauth.CacheLookup(j).String()))
			o.sets[i][j] = []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(kv...))}
		}
	}
	return o, nil
}

// Observe records one check. Its attribute sets are built in advance, so it
// allocates nothing.
func (o *VerifyObserver) Observe(ev serverauth.VerifyEvent) {
	i := 1 // unauthenticated: every refusal but PermissionDenied
	switch ev.Code {
	case codes.OK:
		i = 0
	case codes.PermissionDenied:
		i = 2
	}
	j := min(max(int(ev.Cache), 0), 2)
	o.checks.Add(context.Background(), 1, o.sets[i][j]...)
}

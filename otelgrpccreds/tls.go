package otelgrpccreds

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/grpccreds/grpccreds/composite"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// TLSObserver records the changes of TLS material of one
// composite.TLSCredentials (a connection's, or a server's): [TLSChanges], and
// the [CertificateTimeLeft] gauge of the certificate in use. Create it with
// [NewTLSObserver], attach it with its Option, and Close it when the
// credentials are closed. Give each set of credentials its own.
type TLSObserver struct {
	cfg     config
	changes metric.Int64Counter
	left    metric.Float64ObservableGauge
	reg     metric.Registration
	now     func() time.Time

	mu       sync.Mutex
	notAfter time.Time // of the certificate in use; zero before one
}

// NewTLSObserver creates the TLS instruments ([TLSChanges],
// [CertificateTimeLeft]).
func NewTLSObserver(opts ...Option) (*TLSObserver, error) {
	o := &TLSObserver{cfg: newConfig(opts), now: time.Now}
	meter := o.cfg.meters.Meter(ScopeName)
	var errs [3]error
	o.changes, errs[0] = meter.Int64Counter(TLSChanges, metric.WithUnit("{change}"),
		metric.WithDescription("Changes of TLS material, applied or refused."))
	o.left, errs[1] = meter.Float64ObservableGauge(CertificateTimeLeft, metric.WithUnit("s"),
		metric.WithDescription("Seconds until the certificate in use expires."))
	if err := errors.Join(errs[:2]...); err != nil {
		return nil, err
	}
	if o.reg, errs[2] = meter.RegisterCallback(o.observeLeft, o.left); errs[2] != nil {
		return nil, errs[2]
	}
	return o, nil
}

// Option attaches the observer to TLS credentials: pass it to composite.TLS
// or composite.ServerTLS, or through connection.WithTLSOptions. To have
// other observers too, call [TLSObserver.Observe] from a
// composite.WithTLSObserver function of your own instead.
func (o *TLSObserver) Option() composite.ReloadOption { return composite.WithTLSObserver(o.Observe) }

// Observe records one change of TLS material.
func (o *TLSObserver) Observe(e composite.TLSEvent) {
	part, result := "certificate", "applied"
	switch e.Kind {
	case composite.RootsApplied, composite.RootsRefused:
		part = "roots"
	}
	if e.Err != nil {
		result = "refused"
	}
	kv := append(o.cfg.attrs[:len(o.cfg.attrs):len(o.cfg.attrs)], OutcomeKey.String(result), PartKey.String(part))
	o.changes.Add(context.Background(), 1, metric.WithAttributeSet(attribute.NewSet(kv...)))
	if e.Kind == composite.CertificateApplied {
		o.mu.Lock()
		o.notAfter = e.NotAfter
		o.mu.Unlock()
	}
}

// Close stops the gauge. It does not close the credentials.
func (o *TLSObserver) Close() error { return o.reg.Unregister() }

func (o *TLSObserver) observeLeft(_ context.Context, obs metric.Observer) error {
	o.mu.Lock()
	notAfter := o.notAfter
	o.mu.Unlock()
	if !notAfter.IsZero() {
		obs.ObserveFloat64(o.left, notAfter.Sub(o.now()).Seconds(), metric.WithAttributes(o.cfg.attrs...))
	}
	return nil
}

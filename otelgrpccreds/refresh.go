package otelgrpccreds

import (
	"context"
	"sync"
	"time"

	"github.com/grpccreds/grpccreds/internal/engine"
	"github.com/grpccreds/grpccreds/tokensource"
	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// RefreshObserver records the token fetches of one refresh engine as metrics
// and spans. Create it with [NewRefreshObserver], attach it with its Option,
// and Close it when the engine is closed. Give each engine its own.
type RefreshObserver struct {
	cfg    config
	inst   refreshInstruments
	tracer trace.Tracer
	reg    metric.Registration

	mu     sync.Mutex
	engine *tokensource.Refresher // read for the expiry gauge
	span   trace.Span             // the fetch in flight
	now    func() time.Time       // the engine's clock, for the gauge
}

// NewRefreshObserver creates the refresh instruments ([FetchDuration],
// [Fetches], [TimeToExpiry], [Waits], [WaitDuration], [BackgroundFailures])
// and the tracer of the fetch spans.
func NewRefreshObserver(opts ...Option) (*RefreshObserver, error) {
	o := &RefreshObserver{cfg: newConfig(opts), now: time.Now}
	meter := o.cfg.meters.Meter(ScopeName)
	var err error
	if o.inst, err = newRefreshInstruments(meter); err != nil {
		return nil, err
	}
	if o.reg, err = meter.RegisterCallback(o.observeExpiry, o.inst.expiry); err != nil {
		return nil, err
	}
	o.tracer = o.cfg.tracers.Tracer(ScopeName)
	return o, nil
}

// Option attaches the observer to an engine: pass it to
// [tokensource.Refreshing]. To have other observers too, call
// [RefreshObserver.Observe] from a [tokensource.WithObserver] function of
// your own instead.
func (o *RefreshObserver) Option() tokensource.Option { return tokensource.WithObserver(o.Observe) }

// Watch lets the observer read r's token expiry for the
// grpccreds.token.time_to_expiry gauge. Without it the gauge reports nothing.
func (o *RefreshObserver) Watch(r *tokensource.Refresher) {
	o.mu.Lock()
	o.engine = r
	o.mu.Unlock()
}

// Close stops the gauge and ends a fetch span left open. It does not close
// the engine.
func (o *RefreshObserver) Close() error {
	o.mu.Lock()
	if o.span != nil {
		o.span.End()
		o.span = nil
	}
	o.engine = nil
	o.mu.Unlock()
	return o.reg.Unregister()
}

// Observe records one engine event.
func (o *RefreshObserver) Observe(ev tokensource.Event) {
	switch ev.Kind {
	case tokensource.RefreshStarted:
		o.started(ev)
	case tokensource.RefreshSucceeded:
		o.finished(ev, "success", codes.OK)
	case tokensource.RefreshUnchanged:
		o.finished(ev, "unchanged", codes.OK)
	case tokensource.RefreshFailed:
		o.finished(ev, "failure", status.Code(ev.Err))
	case tokensource.CallerWaited:
		o.waited(ev)
	}
}

// started opens the span of a fetch.
func (o *RefreshObserver) started(ev tokensource.Event) {
	_, span := o.tracer.Start(context.Background(), "grpccreds.token.fetch",
		trace.WithAttributes(o.cfg.attrs...), trace.WithAttributes(AttemptKey.Int(ev.Attempt)))
	o.mu.Lock()
	if o.span != nil {
		o.span.End()
	}
	o.span = span
	o.mu.Unlock()
}

// finished records a fetch's outcome and closes its span.
func (o *RefreshObserver) finished(ev tokensource.Event, result string, code codes.Code) {
	ctx := context.Background()
	set := metric.WithAttributeSet(codeAttrs(o.cfg.attrs, result, code))
	o.inst.fetchDuration.Record(ctx, ev.Took.Seconds(), set)
	o.inst.fetches.Add(ctx, 1, set)
	if ev.Kind == tokensource.RefreshFailed && ev.Serving {
		o.inst.background.Add(ctx, 1, set)
	}
	o.mu.Lock()
	span := o.span
	o.span = nil
	o.mu.Unlock()
	if span != nil {
		endSpan(span, ev, result, code)
	}
}

// endSpan ends a fetch span. The status names only the gRPC code: the error
// text stays out of the trace.
func endSpan(span trace.Span, ev tokensource.Event, result string, code codes.Code) {
	span.SetAttributes(OutcomeKey.String(result), StatusCodeKey.Int64(int64(code)), AttemptKey.Int(ev.Attempt))
	if code != codes.OK {
		span.SetStatus(otelcodes.Error, code.String())
	}
	span.End()
}

// waited records a caller that had to wait for a fetch.
func (o *RefreshObserver) waited(ev tokensource.Event) {
	code := status.Code(ev.Err)
	set := metric.WithAttributeSet(codeAttrs(o.cfg.attrs, outcome(code), code))
	o.inst.waitDuration.Record(context.Background(), ev.Took.Seconds(), set)
	o.inst.waits.Add(context.Background(), 1, set)
}

// observeExpiry reports the seconds until the watched engine's token stops
// being served; nothing when there is none.
func (o *RefreshObserver) observeExpiry(_ context.Context, obs metric.Observer) error {
	o.mu.Lock()
	r := o.engine
	o.mu.Unlock()
	if r == nil {
		return nil
	}
	g, ok := engine.Of(r)
	if !ok {
		return nil
	}
	if exp := g.Expiry(); !exp.IsZero() {
		obs.ObserveFloat64(o.inst.expiry, exp.Sub(o.now()).Seconds(), metric.WithAttributes(o.cfg.attrs...))
	}
	return nil
}

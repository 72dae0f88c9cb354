package otelgrpccreds

import (
	"errors"

	"go.opentelemetry.io/otel/metric"
)

// The metric names. Durations are in seconds.
const (
	// FetchDuration is a histogram of how long token fetches took (unit s;
	// attributes grpccreds.outcome, rpc.grpc.status_code).
	FetchDuration = "grpccreds.token.fetch.duration"
	// Fetches counts token fetches (unit {fetch}; same attributes).
	Fetches = "grpccreds.token.fetches"
	// TimeToExpiry is a gauge of the seconds until the engine stops serving
	// its current token (unit s; no attributes).
	TimeToExpiry = "grpccreds.token.time_to_expiry"
	// Waits counts callers that found no usable token and waited for a fetch
	// (unit {call}; grpccreds.outcome success or failure,
	// rpc.grpc.status_code).
	Waits = "grpccreds.token.waits"
	// WaitDuration is a histogram of how long those callers waited (unit s;
	// same attributes).
	WaitDuration = "grpccreds.token.wait.duration"
	// BackgroundFailures counts fetches that failed while a valid token was
	// still served, so no caller saw the failure (unit {fetch};
	// grpccreds.outcome, rpc.grpc.status_code).
	BackgroundFailures = "grpccreds.token.background_failures"
	// Verifications counts the checks of incoming calls by a serverauth
	// Verifier (unit {call}; grpccreds.outcome ok, unauthenticated or
	// permission_denied; grpccreds.cache hit, miss or none).
	Verifications = "grpccreds.server.verifications"
	// CertificateTimeLeft is a gauge of the seconds until the certificate
	// that TLS credentials present expires (unit s; only those of
	// WithAttributes): alert
	// well before it reaches zero, since a rotation that keeps failing
	// leaves the old certificate in use until then.
	CertificateTimeLeft = "grpccreds.tls.certificate.time_left"
	// TLSChanges counts changes of TLS material (unit {change};
	// grpccreds.outcome applied or refused; grpccreds.tls.part certificate or
	// roots).
	TLSChanges = "grpccreds.tls.changes"
)

// durationBuckets suit token endpoints: milliseconds to the fetch timeout.
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

type refreshInstruments struct {
	fetchDuration metric.Float64Histogram
	fetches       metric.Int64Counter
	expiry        metric.Float64ObservableGauge
	waits         metric.Int64Counter
	waitDuration  metric.Float64Histogram
	background    metric.Int64Counter
}

func newRefreshInstruments(m metric.Meter) (refreshInstruments, error) {
	var i refreshInstruments
	var errs [6]error
	i.fetchDuration, errs[0] = m.Float64Histogram(FetchDuration, metric.WithUnit("s"),
		metric.WithDescription("How long token fetches took."), metric.WithExplicitBucketBoundaries(durationBuckets...))
	i.fetches, errs[1] = m.Int64Counter(Fetches, metric.WithUnit("{fetch}"),
		metric.WithDescription("Token fetches."))
	i.expiry, errs[2] = m.Float64ObservableGauge(TimeToExpiry, metric.WithUnit("s"),
		metric.WithDescription("Seconds until the current token stops being served."))
	i.waits, errs[3] = m.Int64Counter(Waits, metric.WithUnit("{call}"),
		metric.WithDescription("Callers that found no usable token and waited for a fetch."))
	i.waitDuration, errs[4] = m.Float64Histogram(WaitDuration, metric.WithUnit("s"),
		metric.WithDescription("How long callers waited for a token."), metric.WithExplicitBucketBoundaries(durationBuckets...))
	i.background, errs[5] = m.Int64Counter(BackgroundFailures, metric.WithUnit("{fetch}"),
		metric.WithDescription("Token fetches that failed while a valid token was still served."))
	return i, errors.Join(errs[:]...)
}

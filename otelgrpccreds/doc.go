// Package otelgrpccreds reports grpccreds' token refresh and server-side
// verification as OpenTelemetry metrics and traces.
//
// A [RefreshObserver] turns the events of a refresh engine
// ([tokensource.Refresher]) into metrics and a span per token fetch; attach
// it with [RefreshObserver.Option] and let it read the token's expiry with
// [RefreshObserver.Watch]. A [VerifyObserver] counts the checks of a
// [serverauth.Verifier]; set it as [serverauth.Config.Observer].
//
// Both take a metric.MeterProvider and a trace.TracerProvider, by default
// the global ones. Attributes have few values (outcomes, gRPC codes, cache
// hit or miss); none ever holds a token, a secret, a subject or a claim
// value. A token served from the cache costs nothing more: the engine calls
// the observer only when it fetches, or when a caller had to wait.
//
// This package is a module of its own, so that the grpccreds module does not
// depend on OpenTelemetry.
package otelgrpccreds

package otelgrpccreds

import (
	"go.opentelemetry.io/otel/attribute"
	"google.golang.org/grpc/codes"
)

// The attribute keys. Their values are drawn from short fixed lists.
const (
	// OutcomeKey: for a fetch "success", "failure" or "unchanged" (the
	// source returned the token the engine holds); for a caller that waited
	// "success" or "failure"; for a verification "ok", "unauthenticated" or
	// "permission_denied"; for a change of TLS material "applied" or
	// "refused".
	OutcomeKey = attribute.Key("grpccreds.outcome")
	// StatusCodeKey is the gRPC status code (0 for OK), as an integer.
	StatusCodeKey = attribute.Key("rpc.grpc.status_code")
	// CacheKey is "hit" or "miss" (or "none": the cache was not asked) for a
	// verification.
	CacheKey = attribute.Key("grpccreds.cache")
	// AttemptKey is a fetch's attempt number on its span: 1 for the first try
	// after a success. It is not put on metrics.
	AttemptKey = attribute.Key("grpccreds.attempt")
	// PartKey is the TLS material a change was about: "certificate" or
	// "roots".
	PartKey = attribute.Key("grpccreds.tls.part")
)

// outcome returns "success" or "failure" for code.
func outcome(code codes.Code) string {
	if code == codes.OK {
		return "success"
	}
	return "failure"
}

// codeAttrs returns the outcome and status code attributes after extra.
func codeAttrs(extra []attribute.KeyValue, result string, code codes.Code) attribute.Set {
	kv := append(extra[:len(extra):len(extra)], OutcomeKey.String(result), StatusCodeKey.Int64(int64(code)))
	return attribute.NewSet(kv...)
}

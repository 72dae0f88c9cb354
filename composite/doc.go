// Package composite builds channel credentials (TLS) and combines them with
// per-RPC credentials, as gRPC Python's composite_channel_credentials and
// composite_call_credentials do.
package composite

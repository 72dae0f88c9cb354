// Package composite builds channel credentials (TLS) and combines them with
// per-RPC credentials, as gRPC Python's composite_channel_credentials and
// composite_call_credentials do.
//
// Its TLS credentials rotate: [TLS], [TLSFromFile], [ServerTLS] and
// [ServerTLSFromFiles] return a [TLSCredentials] whose certificate and roots
// are replaced while it is in use, from files read again on a schedule, from
// a gRPC certificate provider, or by its Update methods. Each replacement is
// checked before it is used (a matching pair, valid now, for the right side;
// roots that parse) and the last good material stays if it fails; each
// handshake takes the current material through one atomic load, and
// crypto/tls verifies the peer in full. Go's tls.Config cannot change its
// roots per handshake, so nothing here skips verification to do it: each
// change builds a new tls.Config.
package composite

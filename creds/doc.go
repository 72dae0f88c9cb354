// Package creds provides gRPC per-RPC credentials: a bearer token from any
// token source ([Bearer]), a per-call metadata plugin ([Plugin], gRPC Python's
// AuthMetadataPlugin in Go) and a fixed API key ([APIKey]).
//
// Every credential here refuses to send anything over a connection without
// privacy and integrity (TLS, ALTS, a local Unix socket), and checks this
// before any token is fetched. [AllowInsecureLoopback] relaxes that, for
// local development, to plaintext connections that composite.InsecureLoopback
// transport credentials found to end on this machine: a loopback target
// reached directly (not through a proxy), or a Unix socket.
//
// Errors are gRPC status errors:
//   - Unavailable: the identity provider is unreachable, timed out, or
//     answered 5xx or 429;
//   - Unauthenticated: the credentials were rejected, the token is invalid, or
//     the connection is not secure;
//   - DeadlineExceeded or Canceled: the caller's context ended first.
//
// Messages name the cause but never contain a token, a secret or a response
// body.
package creds

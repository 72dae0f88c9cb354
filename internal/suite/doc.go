// Package suite holds the adversarial tests that run through the whole stack
// (engine, creds, Connection, a real gRPC server, the HTTPS test authority):
// the fault matrix, secret redaction and the long-life soak. It has no code
// of its own.
package suite

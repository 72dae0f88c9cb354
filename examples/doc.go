// Package examples holds no code: each directory below it is one scenario,
// with a client (and server) main a user copies as is, and a test that builds
// those mains and runs the scenario against the test kit grpccredstest.
//
//	external-token   Volue Mesh's with_external_access_token / update_external_access_token (make demo)
//	jwt-interceptor  a server that verifies bearer JWTs from a JWKS, with roles per method
//	custom-plugin    gRPC Python's auth example: a per-method signature plugin, composite credentials
//	api-key          a Tyk-style raw "authorization: <key>" API key
//	azure-ad         Azure AD (Entra ID) client credentials or the default chain, via MSAL
//	cert-rotation    mTLS whose client and server certificates are renewed on disk while both run
//	on-behalf-of     a middle-tier service calling a downstream service as its caller (token exchange)
//
// Run them all with make examples, or go test ./examples/...
package examples

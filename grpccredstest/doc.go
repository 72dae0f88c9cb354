// Package grpccredstest lets you test code that uses grpccreds offline, with
// no tenant and no network beyond 127.0.0.1, in the spirit of
// net/http/httptest:
//
//   - [IdentityProvider]: an Azure AD / OIDC identity provider over HTTPS on
//     127.0.0.1 that MSAL and x/oauth2 accept: discovery in the Azure AD
//     layout, client credentials (secret or assertion), device code,
//     authorization code with PKCE, managed-identity endpoints and a JWKS. It
//     can fail on demand (down, slow, 5xx, 429 with Retry-After, garbage,
//     invalid_client) and counts requests.
//   - [Signer]: tokens with the claims you choose (roles, name, oid, aud, iss,
//     exp, nbf, kid), expired ones, and, from a second Signer, foreign-signed
//     ones.
//   - [CA]: a throwaway certificate authority with server and client
//     certificates for 127.0.0.1, ::1 and localhost.
//   - [Server]: a TLS gRPC server, protected by a serverauth.Verifier or by
//     nothing, that records the credentials each call carried and counts TCP
//     connections.
//
// Constructors named New… take a testing.TB and clean up when the test
// ends; those named Start… return something you Close yourself, for
// programs and examples.
package grpccredstest

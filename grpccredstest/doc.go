// Package grpccredstest lets you test code that uses grpccreds offline, with
// no tenant and no network beyond 127.0.0.1, in the spirit of
// net/http/httptest:
//
//   - [IdentityProvider]: an Azure AD / OIDC identity provider over HTTPS on
//     127.0.0.1 that MSAL, azidentity and x/oauth2 accept: discovery in the
//     Azure AD layout, client credentials (a secret, or an assertion it
//     verifies strictly for a client registered with its key), the JWT
//     bearer and token-exchange grants, Azure's on-behalf-of flow, and a
//     JWKS. It can misbehave on demand (slow, 5xx, 429 with Retry-After, garbage,
//     invalid_client), go down and come back, and counts token requests.
//   - [Signer]: tokens with the claims you choose (roles, name, oid, aud,
//     iss, exp, nbf, kid), expired ones, and, from a second Signer,
//     foreign-signed ones.
//   - [CA]: a throwaway certificate authority with server and client
//     certificates for 127.0.0.1, ::1 and localhost.
//   - [Server]: a TLS gRPC server, protected by a serverauth.Verifier or by
//     nothing, that records the credentials each call carried and counts TCP
//     connections; [HealthCheck] calls it.
//
// Every constructor takes the test's testing.TB first, fails the test if it
// cannot build what it was asked for, and cleans up when the test ends.
// Fixed facts (addresses, URLs, certificates, keys) are struct fields set at
// construction; methods are for behaviour.
//
// Package grpccredstest/azuretest adds what tests of Azure sign-in need:
// managed-identity endpoints, the device-code and authorization-code flows,
// and the people who sign in through them.
package grpccredstest

// Package serverauth is the server side: gRPC interceptors that admit a call only
// if it carries an acceptable credential.
//
// [Verifier] checks a bearer token. A JWT is verified against the keys of the
// issuer its iss names, among the [Issuer]s configured (each with static
// keys, a JWKS URL kept fresh with github.com/MicahParks/keyfunc and jwkset,
// or keys found by OpenID Connect discovery): its signature (RS*, PS* or
// ES*), exp/nbf/iat with a leeway, audience, required claims and, per
// method, roles or scopes. An opaque token is checked by RFC 7662
// introspection ([Introspection]). It is strict by default: an issuer
// without a URL or audiences is refused unless SkipIssuerCheck or
// SkipAudienceCheck says so, and so is a MethodRoles or MethodScopes key or
// Skip entry that is not a method name; [Verifier.CheckMethods] checks those
// names against a server's registered services. Streams end when their
// token expires. For Azure AD APIs, package serverauth/azure lists the
// issuers.
//
// Verified tokens are cached by their SHA-256, so a client that reuses its
// token costs a hash and a map lookup, not an RSA verification. An entry
// never outlives the token's exp nor, for a JWKS key, the key's presence in
// the last fetched JWKS.
//
// [NewValidator] turns any metadata check into interceptors, for the API-key
// ([APIKey]) and custom-signature schemes.
//
// Missing or bad credentials answer Unauthenticated, a missing role or
// scope PermissionDenied, keys or an introspection endpoint that cannot be
// reached Unavailable. Messages help a developer but never echo the token or
// key material. A handler gets a copy of the verified claims from its
// context ([ClaimsFromContext]).
package serverauth

// Package serverauth is the server side: gRPC interceptors that admit a call only
// if it carries an acceptable credential.
//
// [Verifier] checks a bearer JWT: its signature (RS256, PS256 or ES256, keys
// from a JWKS URL kept fresh with github.com/MicahParks/keyfunc and jwkset,
// or static keys), exp/nbf/iat with a leeway, issuer, audience, required
// claims, and a per-method role table. It is strict by default: a Config
// without an Issuer or an Audience is refused unless SkipIssuerCheck or
// SkipAudienceCheck says so, and so is a MethodRoles key or Skip entry that
// is not a method name; [Verifier.CheckMethods] checks those names against
// a server's registered services.
//
// Verified tokens are cached by their SHA-256, so a client that reuses its
// token costs a hash and a map lookup, not an RSA verification. An entry
// never outlives the token's exp nor, for a JWKS key, the key's presence in
// the last fetched JWKS.
//
// [NewValidator] turns any metadata check into interceptors, for the API-key
// ([APIKey]) and custom-signature schemes.
//
// Missing or bad credentials answer Unauthenticated, a missing role
// PermissionDenied. Messages help a developer but never echo the token or key
// material. A handler gets a copy of the verified claims from its context
// ([ClaimsFromContext]).
package serverauth

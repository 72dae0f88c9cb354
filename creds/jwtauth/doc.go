// Package jwtauth is the server side: gRPC interceptors that admit a call only
// if it carries an acceptable credential.
//
// [Verifier] checks a bearer JWT: its signature (RS256, PS256 or ES256, keys
// from a JWKS URL kept fresh by github.com/MicahParks/keyfunc, or static
// keys), exp/nbf/iat with a leeway, issuer, audience, required claims, and a
// per-method role table. Issuer and audience are required: a Config without
// them is refused unless SkipIssuerCheck or SkipAudienceCheck says so. So are
// MethodRoles keys and Skip entries that are not method names;
// [Verifier.CheckMethods] checks them against a server's services. Verified tokens are cached by their SHA-256, so a
// client that reuses its token costs a hash and a map lookup, not an RSA
// verification; an entry never outlives the token's exp.
//
// [NewValidator] turns any metadata check into interceptors, for the API-key
// ([APIKey]) and custom-signature schemes.
//
// Missing or bad credentials answer Unauthenticated, a missing role
// PermissionDenied. Messages help a developer but never echo the token or key
// material. The verified claims are in the handler's context
// ([ClaimsFromContext]).
package jwtauth

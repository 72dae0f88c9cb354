// Package tokensource supplies OAuth2 access tokens to gRPC credentials.
//
// Every source here is an [oauth2.TokenSource], the currency between the
// packages of this module, and also a [ContextTokenSource], so a caller's
// deadline is honoured where the source allows it.
//
// The heart of the package is [Refreshing], the refresh engine. It caches the
// token behind an atomic pointer and serves it without a lock, refreshes it in
// the background before it expires (one fetch at a time, two overlapping for
// tokens that barely outlive a fetch), makes callers wait for one shared fetch
// only when there is no usable token, and retries failures with capped
// exponential backoff. Wrap any refreshing source in it: an x/oauth2
// client-credentials config, a token file, a plain function, or the Azure AD
// sources of package tokensource/azure, which is separate so that nothing
// else links MSAL.
//
// The OAuth2 grants beyond x/oauth2's client credentials fetch when asked and
// keep no cache, so the engine applies to them unchanged: [ClientCredentials]
// with a client secret or a signed client assertion ([SignedAssertion],
// RFC 7523 §2.2, private_key_jwt), [JWTBearer] (RFC 7523 §2.1) and
// [TokenExchange] (RFC 8693). They post through x/oauth2's token request.
//
// [PerUser] keeps an engine per incoming user, for a middle-tier service
// calling another on behalf of its callers ([OnBehalfOf], or Azure AD's
// on-behalf-of flow in tokensource/azure).
//
// [External] holds a token the application supplies and swaps it atomically,
// after validating it, for deployments where another component owns the
// credentials.
//
// Errors returned by the engine carry a gRPC status and never contain token
// text, secrets or response bodies: Unavailable when the identity provider is
// unreachable, timed out, or answered 5xx, 429 or something unreadable;
// Unauthenticated when it rejected the credentials; DeadlineExceeded or
// Canceled when the caller's context ended first. See [Func] for the errors
// of a source of your own.
package tokensource

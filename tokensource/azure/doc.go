// Package azure provides Azure AD (Microsoft Entra ID) token sources, built on
// MSAL Go and kept fresh by the refresh engine of package tokensource: an
// application's own credentials ([App]: secret, certificate, assertion,
// workload identity), any MSAL confidential client ([FromMSAL]), a user
// signing in on another device ([DeviceCode]) or in the browser
// ([InteractiveBrowser]), managed identity ([ManagedIdentity]), the Azure
// CLIs ([AzureCLI], [DeveloperCLI]) and the chain of these that suits where
// the program runs ([Default]). [PersistentCache] keeps a user's sign-in
// across runs.
//
// It lives in its own package, as x/oauth2 keeps its providers in their own,
// so that a program that does not use Azure (a server that only verifies
// JWTs, say) does not link MSAL.
//
// Errors are gRPC status errors, as everywhere in grpccreds: a rejection by
// Azure AD (invalid_client, unauthorized_client, 400/401/403) is
// Unauthenticated; a network failure, a timeout, 5xx or 429 is Unavailable.
// No secret, assertion or response body reaches a message.
package azure

// Package azure provides Azure AD (Microsoft Entra ID) token sources, built
// on MSAL Go: an application's own credentials ([ClientSecret],
// [ClientCertificate], [ClientAssertion], [WorkloadIdentity]), any MSAL
// confidential client ([Confidential]), a user signing in on another device
// ([DeviceCode]) or in the browser ([InteractiveBrowser]), managed identity
// ([ManagedIdentity]), the Azure CLIs ([AzureCLI], [DeveloperCLI]) and the
// chain of these that suits where the program runs ([Default]). Package
// msalcache keeps a user's sign-in across runs.
//
// A middle-tier service calls another API as its caller with [OnBehalfOf],
// Azure AD's on-behalf-of flow: its UserFunc goes into
// tokensource.NewPerUser, which keeps an engine per caller.
//
// Every source has one shape: a struct of configuration whose TokenSource
// method checks it and returns a tokensource.ContextTokenSource that
// fetches when asked, keeping no cache beyond MSAL's own. The refresh engine
// (shared fetch, background refresh, backoff) goes in front of it, built by
// the caller:
//
//	src, err := azure.ClientSecret{TenantID: tenant, ClientID: client, Secret: secret,
//		Scopes: []string{"api://my-api/.default"}}.TokenSource()
//	if err != nil { ... }
//	conn, err := connection.WithTokenSource(target, nil, src, connection.WithLogger(logger))
//
// connection.WithTokenSource builds the engine (configured by
// connection.WithRefreshOptions) and closes it on Close;
// tokensource.Refreshing builds one to use elsewhere.
//
// It lives in its own package, as x/oauth2 keeps its providers in their own,
// so that a program that does not use Azure (a server that only verifies
// JWTs, say) does not link MSAL.
//
// Errors are gRPC status errors, as everywhere in grpccreds: a rejection by
// Azure AD (invalid_client, unauthorized_client, 400/401/403) is
// Unauthenticated; a network failure, a timeout, 5xx or 429 is Unavailable.
// A configuration that TokenSource refuses is a plain error starting
// "azure: ". No secret, assertion or response body reaches a message.
package azure

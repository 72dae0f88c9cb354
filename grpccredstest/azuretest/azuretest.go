// Package azuretest extends a [grpccredstest.IdentityProvider] for tests of
// Azure managed identity and of interactive sign-in:
//
//   - managed identities ([AddManagedIdentity]) on Azure's managed-identity
//     endpoints ([ManagedIdentityBase]): IMDS, Azure Arc and its key
//     challenge ([SetArcKey]), App Service ([AppServiceHeader]), Azure ML
//     ([AzureMLSecret]) and Cloud Shell;
//   - the device-code and authorization-code (PKCE) flows, in which [User],
//     or whoever [SignInAs] names, signs in at once;
//   - counters of those requests, of token requests with a claims parameter,
//     and the last client assertion received.
//
// The endpoints are the identity provider's own, on its addresses; this
// package only configures and observes them.
package azuretest

import (
	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/internal/kitlink"
)

// The secrets the managed-identity hosts share with their clients. Tests put
// them in IDENTITY_HEADER (App Service) and MSI_SECRET (Azure ML).
const (
	AppServiceHeader = kitlink.AppServiceHeader
	AzureMLSecret    = kitlink.AzureMLSecret
)

// ManagedIdentity is an identity the managed-identity endpoints hand tokens
// to. The one with no IDs is the system-assigned identity; the others are
// user-assigned, selected by any of their IDs.
type ManagedIdentity struct {
	ClientID, ObjectID, ResourceID string
	// Identity is whom its tokens are issued to.
	Identity grpccredstest.Identity
}

func state(idp *grpccredstest.IdentityProvider) *kitlink.State { return kitlink.Azure(idp) }

// AddManagedIdentity registers mi with idp's managed-identity endpoints.
func AddManagedIdentity(idp *grpccredstest.IdentityProvider, mi ManagedIdentity) {
	state(idp).AddManagedIdentity(kitlink.ManagedIdentity{ClientID: mi.ClientID, ObjectID: mi.ObjectID,
		ResourceID: mi.ResourceID, Person: kitlink.Person(mi.Identity)})
}

// ManagedIdentityBase is the plain-HTTP base URL of idp's managed-identity
// endpoints, http://127.0.0.1:PORT:
//   - IMDS and Azure Arc: GET /metadata/identity/oauth2/token, with the
//     Metadata header (Arc: api-version 2020-06-01 and its key challenge);
//   - App Service, Azure ML and Cloud Shell: /msi/token (App Service: GET with
//     X-IDENTITY-HEADER; Azure ML: GET with a secret header; Cloud Shell: POST).
//
// IMDS's own address, 169.254.169.254, is never used: a test's HTTP client
// dials ManagedIdentityAddr whatever host it is asked for. The endpoints misbehave and go down with idp's Mode.
func ManagedIdentityBase(idp *grpccredstest.IdentityProvider) string {
	return "http://" + state(idp).ManagedIdentityAddr
}

// ManagedIdentityAddr is the host:port of idp's managed-identity endpoints,
// for a test's dialer to reach whatever host it is asked for.
func ManagedIdentityAddr(idp *grpccredstest.IdentityProvider) string {
	return state(idp).ManagedIdentityAddr
}

// ManagedIdentityRequests counts requests to idp's managed-identity
// endpoints.
func ManagedIdentityRequests(idp *grpccredstest.IdentityProvider) int64 {
	return state(idp).ManagedIdentityRequests.Load()
}

// SetArcKey makes idp's Azure Arc endpoint ask for the key in file, whose
// contents are key, as the Arc agent does.
func SetArcKey(idp *grpccredstest.IdentityProvider, file, key string) {
	state(idp).SetArcKey(file, key)
}

// User is the person who signs in, through the device-code flow or in the
// browser, unless SignInAs names another: Ada Operator, a Reader.
func User() grpccredstest.Identity { return grpccredstest.Identity(kitlink.User()) }

// SecondUser is another person who can sign in, for tests of a token cache
// that holds two accounts: Bob Reviewer, a Reader.
func SecondUser() grpccredstest.Identity { return grpccredstest.Identity(kitlink.SecondUser()) }

// Username is the username (the id token's preferred_username) of a person
// who signs in: the first word of their name in lower case, at
// example.test; "ada@example.test" for User.
func Username(id grpccredstest.Identity) string { return kitlink.Username(kitlink.Person(id)) }

// SignInAs makes id the person who signs in at idp through the device-code
// and authorization-code flows from now on (at first, User). Each person has
// their own refresh token, and the refresh-token grant issues tokens for the
// person the refresh token belongs to.
func SignInAs(idp *grpccredstest.IdentityProvider, id grpccredstest.Identity) {
	state(idp).SignInAs(kitlink.Person(id))
}

// AuthorizeRequests counts requests to idp's authorization endpoint.
func AuthorizeRequests(idp *grpccredstest.IdentityProvider) int64 {
	return state(idp).AuthorizeRequests.Load()
}

// DeviceCodeRequests counts requests to idp's device-code endpoint.
func DeviceCodeRequests(idp *grpccredstest.IdentityProvider) int64 {
	return state(idp).DeviceCodeRequests.Load()
}

// ClaimsRequests counts requests to idp's token endpoint that carried a
// claims parameter, as MSAL sends one when asked to bypass its cache
// (WithClaims).
func ClaimsRequests(idp *grpccredstest.IdentityProvider) int64 {
	return state(idp).ClaimsRequests.Load()
}

// LastAssertion returns the last client assertion idp's token endpoint
// received.
func LastAssertion(idp *grpccredstest.IdentityProvider) string { return state(idp).LastAssertion() }

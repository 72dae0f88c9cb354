// Package kitlink links grpccredstest/azuretest to the parts of a
// grpccredstest.IdentityProvider that only Azure tests need, in the manner of
// grpc-go's internal package: grpccredstest sets [Azure] in its init, and
// azuretest calls it. Neither the state nor the link is part of
// grpccredstest's API.
package kitlink

import (
	"strings"
	"sync"
	"sync/atomic"
)

// Azure returns the Azure state of idp, which must be a
// *grpccredstest.IdentityProvider. grpccredstest sets it in its init.
var Azure func(idp any) *State

// The secrets the managed-identity hosts share with their clients.
const (
	AppServiceHeader = "app-service-identity-header-5c1d"
	AzureMLSecret    = "azure-ml-msi-secret-0b7e"
)

// Person is whom a token is issued to; grpccredstest.Identity converts to
// and from it.
type Person struct {
	Name  string
	OID   string
	Roles []string
}

// User is the person who signs in unless someone else is named.
func User() Person {
	return Person{Name: "Ada Operator", OID: "9d3c1e2a-0000-4000-8000-00000000ad0a", Roles: []string{"Reader"}}
}

// SecondUser is another person who can sign in.
func SecondUser() Person {
	return Person{Name: "Bob Reviewer", OID: "5b0e7c41-0000-4000-8000-0000000000b0", Roles: []string{"Reader"}}
}

// Username is a person's preferred_username: the first word of their name
// in lower case, at example.test.
func Username(p Person) string {
	first, _, _ := strings.Cut(p.Name, " ")
	return strings.ToLower(first) + "@example.test"
}

// ManagedIdentity is an identity the managed-identity endpoints hand tokens
// to; the one with no IDs is the system-assigned identity.
type ManagedIdentity struct {
	ClientID, ObjectID, ResourceID string
	Person                         Person
}

// State is what the identity provider's Azure endpoints (managed identity,
// device code, authorization code) share with azuretest. Its zero value is
// ready; ManagedIdentityAddr is set once, before the provider is handed out.
type State struct {
	// ManagedIdentityAddr is the host:port of the managed-identity endpoints.
	ManagedIdentityAddr string
	// The request counters.
	ManagedIdentityRequests, AuthorizeRequests, DeviceCodeRequests, ClaimsRequests atomic.Int64

	mu              sync.Mutex
	managed         []ManagedIdentity
	arcFile, arcKey string
	signingIn       Person // zero: User
	assertion       string
}

// AddManagedIdentity registers mi.
func (s *State) AddManagedIdentity(mi ManagedIdentity) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.managed = append(s.managed, mi)
}

// FindManagedIdentity selects a managed identity as IMDS does: by any of its
// IDs, or the system-assigned one when none is given.
func (s *State) FindManagedIdentity(clientID, objectID, resourceID string) (ManagedIdentity, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, mi := range s.managed {
		system := mi.ClientID == "" && mi.ObjectID == "" && mi.ResourceID == ""
		switch {
		case clientID == "" && objectID == "" && resourceID == "" && system,
			clientID != "" && clientID == mi.ClientID,
			objectID != "" && objectID == mi.ObjectID,
			resourceID != "" && resourceID == mi.ResourceID:
			return mi, true
		}
	}
	return ManagedIdentity{}, false
}

// SetArcKey sets the key file Azure Arc's challenge names and its contents.
func (s *State) SetArcKey(file, key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.arcFile, s.arcKey = file, key
}

// ArcKey returns what SetArcKey set.
func (s *State) ArcKey() (file, key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.arcFile, s.arcKey
}

// SignInAs makes p the person who signs in from now on.
func (s *State) SignInAs(p Person) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.signingIn = p
}

// SigningIn is the person who signs in now.
func (s *State) SigningIn() Person {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.signingIn.OID == "" {
		return User()
	}
	return s.signingIn
}

// SetLastAssertion records a client assertion the token endpoint received.
func (s *State) SetLastAssertion(a string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.assertion = a
}

// LastAssertion is the last client assertion the token endpoint received.
func (s *State) LastAssertion() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.assertion
}

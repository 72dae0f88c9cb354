package grpccredstest

import (
	"strings"
)

// SecondUser is another person who can sign in, for tests of a token cache
// that holds two accounts. [IdentityProvider.SignInAs] makes them the one who does.
var SecondUser = Identity{Name: "Bob Reviewer", OID: "5b0e7c41-0000-4000-8000-0000000000b0", Roles: []string{"Reader"}}

// Username is the username (the id token's preferred_username) of a person
// who signs in: the first word of their name in lower case, at
// example.test; "ada@example.test" for User.
func Username(id Identity) string {
	first, _, _ := strings.Cut(id.Name, " ")
	return strings.ToLower(first) + "@example.test"
}

// people is who signs in at the authority and whose refresh tokens it has
// issued.
type people struct {
	signingIn Identity            // zero: User
	refresh   map[string]Identity // refresh token → the person it was issued to
}

// SignInAs makes id the person who signs in through the device-code and
// authorization-code flows from now on (at first, User). Each person has
// their own refresh token, and the refresh-token grant issues tokens for
// the person the refresh token belongs to.
func (s *IdentityProvider) SignInAs(id Identity) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.people.signingIn = id
}

// signingIn is the person who signs in now.
func (s *IdentityProvider) signingIn() Identity {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.people.signingIn.OID == "" {
		return User
	}
	return s.people.signingIn
}

// refreshTokenFor issues id's refresh token: "refresh-token-1" for User,
// as before there was a second person.
func (s *IdentityProvider) refreshTokenFor(id Identity) string {
	if id.OID == User.OID {
		return "refresh-token-1"
	}
	rt := "refresh-token-" + id.OID
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.people.refresh == nil {
		s.people.refresh = map[string]Identity{}
	}
	s.people.refresh[rt] = id
	return rt
}

// refreshUser is the person a refresh token was issued to; User for any
// token the authority does not know, which it accepts as User's.
func (s *IdentityProvider) refreshUser(rt string) Identity {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.people.refresh[rt]; ok {
		return id
	}
	return User
}

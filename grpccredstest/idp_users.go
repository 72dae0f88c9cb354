package grpccredstest

import "github.com/grpccreds/grpccreds/internal/kitlink"

// refreshTokenFor issues id's refresh token: "refresh-token-1" for the
// default user (azuretest.User), as before there was a second person.
func (s *IdentityProvider) refreshTokenFor(id Identity) string {
	if id.OID == kitlink.User().OID {
		return "refresh-token-1"
	}
	rt := "refresh-token-" + id.OID
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refresh[rt] = id
	return rt
}

// refreshUser is the person a refresh token was issued to; the default user
// for any token the identity provider does not know, which it accepts as
// theirs.
func (s *IdentityProvider) refreshUser(rt string) Identity {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.refresh[rt]; ok {
		return id
	}
	return Identity(kitlink.User())
}

package grpccredstest

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// User is the person who signs in, through the device-code flow or in the
// browser, unless [IdentityProvider.SignInAs] names another.
var User = Identity{Name: "Ada Operator", OID: "9d3c1e2a-0000-4000-8000-00000000ad0a", Roles: []string{"Reader"}}

// DeviceCodeRequests counts requests to the device-code endpoint.
func (s *IdentityProvider) DeviceCodeRequests() int64 { return s.deviceRequests.Load() }

func (s *IdentityProvider) deviceCode(w http.ResponseWriter, r *http.Request) {
	s.deviceRequests.Add(1)
	s.polls.Store(0)
	writeJSON(w, http.StatusOK, map[string]any{
		"user_code": "GRPC-CRDS", "device_code": "device-code-1", "verification_uri": s.Base() + "/devicelogin",
		"expires_in": 900, "interval": 1, "message": "To sign in, open " + s.Base() + "/devicelogin and enter GRPC-CRDS.",
	})
}

// devicePoll answers the device-code grant: pending on the first poll, as if
// the user were still typing, then signed in.
func (s *IdentityProvider) devicePoll(w http.ResponseWriter, r *http.Request, notBefore time.Time) {
	if s.polls.Add(1) == 1 {
		writeJSON(w, http.StatusBadRequest, oauthError("authorization_pending", "AADSTS70016: pending"))
		return
	}
	s.userToken(w, r, s.signingIn(), notBefore)
}

// userToken issues tokens for the person id, as the device-code,
// authorization-code and refresh-token grants do: an access token not
// issued before notBefore (zero: now), a refresh token, and the id_token and
// client_info MSAL needs to cache the account.
func (s *IdentityProvider) userToken(w http.ResponseWriter, r *http.Request, id Identity, notBefore time.Time) {
	s.mu.Lock()
	lifetime := s.lifetime
	s.mu.Unlock()
	access, err := s.issueFor(id, s.Audience, lifetime, notBefore)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type": "Bearer", "access_token": access, "expires_in": int(lifetime.Seconds()),
		"refresh_token": s.refreshTokenFor(id), "scope": r.PostForm.Get("scope"),
		"id_token": s.idToken(id, r.PostForm.Get("client_id")), "client_info": s.clientInfo(id),
	})
}

// idToken is what MSAL needs to cache an account; MSAL does not verify it.
func (s *IdentityProvider) idToken(id Identity, clientID string) string {
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": s.Issuer(), "aud": clientID, "sub": id.OID, "oid": id.OID, "tid": s.Tenant,
		"name": id.Name, "preferred_username": Username(id),
		"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(),
	})
	signed, _ := t.SignedString(s.key)
	return signed
}

func (s *IdentityProvider) clientInfo(id Identity) string {
	b, _ := json.Marshal(map[string]string{"uid": id.OID, "utid": s.Tenant})
	return base64.RawURLEncoding.EncodeToString(b)
}

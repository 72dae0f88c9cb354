package grpccredstest

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/grpccreds/grpccreds/internal/kitlink"
)

func (s *IdentityProvider) deviceCode(w http.ResponseWriter, r *http.Request) {
	s.azure.DeviceCodeRequests.Add(1)
	s.polls.Store(0)
	writeJSON(w, http.StatusOK, map[string]any{
		"user_code": "GRPC-CRDS", "device_code": "device-code-1", "verification_uri": s.URL + "/devicelogin",
		"expires_in": 900, "interval": 1, "message": "To sign in, open " + s.URL + "/devicelogin and enter GRPC-CRDS.",
	})
}

// devicePoll answers the device-code grant: pending on the first poll, as if
// the user were still typing, then signed in.
func (s *IdentityProvider) devicePoll(w http.ResponseWriter, r *http.Request, notBefore time.Time) {
	if s.polls.Add(1) == 1 {
		writeJSON(w, http.StatusBadRequest, oauthError("authorization_pending", "AADSTS70016: pending"))
		return
	}
	s.userToken(w, r, Identity(s.azure.SigningIn()), notBefore)
}

// userToken issues tokens for the person id, as the device-code,
// authorization-code and refresh-token grants do: an access token not
// issued before notBefore (zero: now), a refresh token, and the id_token and
// client_info MSAL needs to cache the account.
func (s *IdentityProvider) userToken(w http.ResponseWriter, r *http.Request, id Identity, notBefore time.Time) {
	s.mu.Lock()
	lifetime := s.lifetime
	s.mu.Unlock()
	access, err := s.Signer.issueFor(id, s.Signer.Audience, lifetime, notBefore)
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
		"iss": s.Issuer, "aud": clientID, "sub": id.OID, "oid": id.OID, "tid": s.Tenant,
		"name": id.Name, "preferred_username": kitlink.Username(kitlink.Person(id)),
		"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(),
	})
	signed, _ := t.SignedString(s.Signer.key)
	return signed
}

func (s *IdentityProvider) clientInfo(id Identity) string {
	b, _ := json.Marshal(map[string]string{"uid": id.OID, "utid": s.Tenant})
	return base64.RawURLEncoding.EncodeToString(b)
}

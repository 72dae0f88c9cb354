package grpccredstest

import (
	"encoding/json"
	"errors"
	"time"
)

// claimsRequest is the part of an OAuth2 "claims" request parameter (OpenID
// Connect Core 5.5) that the authority honours: the nbf demand Azure AD sends
// in a continuous access evaluation challenge,
// {"access_token":{"nbf":{"essential":true,"value":"<unix seconds>"}}}, which
// asks for an access token not issued before that time. Other members are
// accepted and ignored.
type claimsRequest struct {
	AccessToken struct {
		NBF struct {
			Value json.Number `json:"value"`
		} `json:"nbf"`
	} `json:"access_token"`
}

var errClaims = errors.New("the claims parameter is not a valid claims request")

// notBefore reads a claims parameter (empty: none). It returns the time the
// token must not be issued before, zero when there is no such demand, or
// errClaims when the parameter is not a JSON claims request or its nbf value
// is not a number of Unix seconds.
func notBefore(claims string) (time.Time, error) {
	if claims == "" {
		return time.Time{}, nil
	}
	var req claimsRequest
	if err := json.Unmarshal([]byte(claims), &req); err != nil {
		return time.Time{}, errClaims
	}
	v := req.AccessToken.NBF.Value
	if v == "" {
		return time.Time{}, nil
	}
	secs, err := v.Float64()
	if err != nil {
		return time.Time{}, errClaims
	}
	return time.Unix(int64(secs), 0), nil
}

// Package claims holds the one type both halves of grpccreds use for a
// token's claims.
//
// Whether a Claims value was verified depends only on where it came from:
//   - serverauth.ClaimsFromContext and serverauth.Verifier.Verify return
//     claims whose signature, issuer, audience and lifetime were verified;
//   - connection.Connection.Claims returns the claims of the client's own
//     token parsed without verification, for display and diagnostics only.
//
// The package imports nothing but the standard library.
package claims

import (
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// Claims are a JWT's claims as decoded from JSON: strings, float64 numbers,
// bools, []any and map[string]any. Read single claims with an index
// (c["name"], c["oid"]) or decode them all into a type of your own with
// [Claims.Decode].
type Claims map[string]any

// Decode decodes the claims into v, as json.Unmarshal does with the token's
// payload.
func (c Claims) Decode(v any) error {
	b, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("claims: %v", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("claims: %v", err)
	}
	return nil
}

// Roles returns the "roles" claim, which may be an array of strings or a
// single string. Entries that are not strings are left out.
func (c Claims) Roles() []string {
	switch roles := c["roles"].(type) {
	case string:
		return []string{roles}
	case []any:
		out := make([]string, 0, len(roles))
		for _, r := range roles {
			if s, ok := r.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case []string:
		return append([]string(nil), roles...)
	}
	return nil
}

// Expiry returns the "exp" claim as a time, or the zero time if there is none
// or it is not a number.
func (c Claims) Expiry() time.Time {
	var f float64
	switch v := c["exp"].(type) {
	case float64:
		f = v
	case json.Number:
		var err error
		if f, err = v.Float64(); err != nil {
			return time.Time{}
		}
	default:
		return time.Time{}
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return time.Time{}
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9))
}

// Clone returns a deep copy of c: the arrays and objects it holds are its
// own, so changing the copy leaves c as it was.
func (c Claims) Clone() Claims {
	if c == nil {
		return nil
	}
	return cloneValue(map[string]any(c)).(map[string]any)
}

// cloneValue deep-copies the containers a decoded JSON claim can hold; other
// values are immutable or copied by assignment.
func cloneValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = cloneValue(e)
		}
		return m
	case Claims:
		return Claims(cloneValue(map[string]any(v)).(map[string]any))
	case []any:
		s := make([]any, len(v))
		for i, e := range v {
			s[i] = cloneValue(e)
		}
		return s
	case []string:
		return append([]string(nil), v...)
	}
	return v
}

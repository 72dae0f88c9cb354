package serverauth

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// issuer is an [Issuer] ready to verify its tokens.
type issuer struct {
	Issuer
	keys keySet
}

// refusal is why a token is refused, in words fit for the caller: it never
// quotes the token or a claim value.
type refusal string

func (r refusal) Error() string { return string(r) }

// startIssuers copies each configured issuer and starts keeping its keys:
// JWKS given by URL are fetched once now (a JWKS that is down is fetched
// again later), discovery runs in the background. Issuers that name the
// same JWKS URL share one fetch.
func (v *Verifier) startIssuers(ctx context.Context) error {
	v.issuers = make(map[string]*issuer, len(v.cfg.Issuers))
	byURL := map[string]*remoteKeys{}
	for i, cfgIs := range v.cfg.Issuers {
		is := &issuer{Issuer: cfgIs}
		is.Audiences, is.Claims, is.Type = slices.Clone(is.Audiences), maps.Clone(is.Claims), mediaType(is.Type)
		static, err := staticKeys(is.StaticKeys)
		if err != nil {
			return fmt.Errorf("serverauth: Issuers[%d]: %w", i, err)
		}
		if is.keys.remote, err = v.remoteKeys(ctx, is.Issuer, byURL); err != nil {
			return err
		}
		is.keys.static, is.StaticKeys = static, nil
		if v.cfg.SkipIssuerCheck {
			v.anyIssuer = is
		}
		v.issuers[is.URL] = is
	}
	return nil
}

// remoteKeys returns is's JWKS, started: nil if is has only static keys.
func (v *Verifier) remoteKeys(ctx context.Context, is Issuer, byURL map[string]*remoteKeys) (*remoteKeys, error) {
	if is.JWKSURL == "" && len(is.StaticKeys) > 0 {
		return nil, nil
	}
	if r, ok := byURL[is.JWKSURL]; ok && is.JWKSURL != "" {
		return r, nil
	}
	r := &remoteKeys{src: len(byURL) + 1, ready: make(chan struct{})}
	if is.JWKSURL == "" {
		byURL["discover "+is.URL] = r
		v.tasks.Go(func() { v.discover(ctx, is, r) })
		return r, nil
	}
	j, err := newJWKS(ctx, &v.tasks, is.JWKSURL, v.cfg, v.cache.setKeys(r.src))
	if err != nil {
		return nil, fmt.Errorf("serverauth: JWKS %s: %w", is.JWKSURL, err)
	}
	r.cur.Store(j)
	close(r.ready)
	byURL[is.JWKSURL] = r
	return r, nil
}

// issuerOf returns the issuer t's iss claim names, if it is trusted.
func (v *Verifier) issuerOf(t *jwt.Token) (*issuer, error) {
	if v.anyIssuer != nil {
		return v.anyIssuer, nil
	}
	iss, err := t.Claims.GetIssuer()
	if err != nil || iss == "" {
		return nil, refusal("the token names no issuer (iss)")
	}
	is, ok := v.issuers[iss]
	if !ok {
		return nil, refusal("the token's issuer (iss) is not one this API trusts")
	}
	return is, nil
}

// checkType applies is.Type to t's typ header.
func (is *issuer) checkType(t *jwt.Token) error {
	if is.Type == "" {
		return nil
	}
	typ, _ := t.Header["typ"].(string)
	if !strings.EqualFold(mediaType(typ), is.Type) {
		return refusal(`the token's type (typ header) is not "` + is.Type + `"`)
	}
	return nil
}

// mediaType returns typ without an "application/" prefix (RFC 7515
// §4.1.9).
func mediaType(typ string) string {
	const prefix = "application/"
	if len(typ) > len(prefix) && strings.EqualFold(typ[:len(prefix)], prefix) {
		return typ[len(prefix):]
	}
	return typ
}

// checkClaims applies is's Audiences and Claims to a verified token's
// claims.
func (is *issuer) checkClaims(c jwt.MapClaims) error {
	if !is.SkipAudienceCheck {
		aud, _ := c.GetAudience()
		if !slices.ContainsFunc(aud, func(a string) bool { return slices.Contains(is.Audiences, a) }) {
			return refusal("the token's audience (aud) is not this API")
		}
	}
	for _, name := range slices.Sorted(maps.Keys(is.Claims)) {
		if got, ok := c[name].(string); !ok || got != is.Claims[name] {
			return refusal("the token's " + name + " claim does not have the value this API requires")
		}
	}
	return nil
}

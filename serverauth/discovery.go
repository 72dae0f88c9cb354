package serverauth

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// discoveryRetry is how long after a failed discovery the next is tried,
// doubling from first up to most.
var discoveryRetry = struct{ first, most time.Duration }{time.Second, 5 * time.Minute}

// discoveryURL is where is publishes its OpenID Connect discovery document.
func discoveryURL(is Issuer) string {
	if is.DiscoveryURL != "" {
		return is.DiscoveryURL
	}
	return strings.TrimSuffix(is.URL, "/") + "/.well-known/openid-configuration"
}

// discover finds is's JWKS by discovery and then keeps it fresh, until ctx
// ends. A failed discovery is tried again with a growing backoff; tokens
// of the issuer are answered Unavailable meanwhile.
func (v *Verifier) discover(ctx context.Context, is Issuer, r *remoteKeys) {
	defer closeOnce(r.ready)
	wait := discoveryRetry.first
	for {
		j, err := v.discoverOnce(ctx, is, r.src)
		if err == nil {
			r.cur.Store(j)
			return
		}
		if v.cfg.Logger != nil && ctx.Err() == nil {
			v.cfg.Logger.WarnContext(ctx, "serverauth: OpenID Connect discovery failed; tried again later",
				"issuer", is.URL, "retry_in", wait, "error", err)
		}
		r.err.Store(&err)
		closeOnce(r.ready)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, discoveryRetry.most)
	}
}

func (v *Verifier) discoverOnce(ctx context.Context, is Issuer, src int) (*jwks, error) {
	url, err := fetchJWKSURL(ctx, v.cfg.HTTPClient, discoveryURL(is), is.URL)
	if err != nil {
		return nil, err
	}
	return newJWKS(ctx, &v.tasks, url, v.cfg, v.cache.setKeys(src))
}

// fetchJWKSURL reads the discovery document at docURL and returns its
// jwks_uri. It refuses a document whose "issuer" is not exactly issuer, as
// OpenID Connect Discovery §4.3 requires: a document that speaks for
// another issuer must not choose this one's keys.
func fetchJWKSURL(ctx context.Context, client *http.Client, docURL, issuer string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, docURL, nil)
	if err != nil {
		return "", err
	}
	resp, err := cmp.Or(client, http.DefaultClient).Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s answered HTTP %d", docURL, resp.StatusCode)
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&doc); err != nil {
		return "", fmt.Errorf("%s: not a discovery document: %w", docURL, err)
	}
	switch {
	case doc.Issuer != issuer:
		return "", fmt.Errorf("%s speaks for the issuer %q, not %q", docURL, doc.Issuer, issuer)
	case doc.JWKSURI == "":
		return "", fmt.Errorf("%s names no jwks_uri", docURL)
	}
	if err := checkFetchURL(doc.JWKSURI); err != nil {
		return "", fmt.Errorf("%s: jwks_uri: %w", docURL, err)
	}
	return doc.JWKSURI, nil
}

// closeOnce closes c unless it is closed already; only one goroutine closes
// it.
func closeOnce(c chan struct{}) {
	select {
	case <-c:
	default:
		close(c)
	}
}

package azure

import (
	"context"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/managedidentity"
	"github.com/grpccreds/grpccreds/internal/fetcherr"
	"github.com/grpccreds/grpccreds/tokensource"
)

// imdsProbeTimeout bounds the wait for IMDS's answers in the Default chain
// until it has answered once, as azidentity's DefaultAzureCredential bounds
// its IMDS probe (imdsProbeTimeout in managed_identity_client.go): off
// Azure, something at 169.254.169.254 that accepts connections and never
// answers then holds the CLIs back for 1 second, not the 10 of
// imdsAnswerTimeout.
const imdsProbeTimeout = time.Second

// inChain prepares the managed identity's source src (nil if it could not
// be built) for the Default chain. On IMDS, the one host a managed identity
// is tried on without being configured, its first fetches are probes (see
// [managedSource.probing]), unless AZURE_TOKEN_CREDENTIALS leaves the managed
// identity alone in the chain: then, as in azidentity since v1.13.0, it
// behaves as it does alone. App Service, Cloud Shell, Azure Arc, Service
// Fabric and Azure ML are configured on purpose, and keep their whole bound.
func inChain(src tokensource.ContextTokenSource) tokensource.ContextTokenSource {
	s, ok := src.(*managedSource)
	alone := strings.EqualFold(os.Getenv("AZURE_TOKEN_CREDENTIALS"), ManagedIdentityCredential)
	if ok && s.source == managedidentity.DefaultToIMDS && !alone {
		s.probe = imdsProbeTimeout
	}
	return src
}

// imdsProbeURL is where the probe asks: IMDS's token endpoint, which MSAL
// also asks (a constant there), without a resource.
const imdsProbeURL = "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01"

// probing reports whether the next fetch must probe first: the source
// probes (see inChain) and its endpoint has not answered yet.
func (s *managedSource) probing() bool { return s.probe > 0 && !s.http.answered.Load() }

// probeIMDS asks IMDS, within s.probe, for nothing: a request without the
// Metadata header, which IMDS answers at once (HTTP 400) without looking
// for an identity, as azidentity's DefaultAzureCredential probes it
// (managed_identity_client.go). Any answer means something is there; MSAL's
// token request then gets the whole bound, so a slow first token does not
// let another credential stand in for the host's identity. No answer
// within the bound means no managed identity here.
func (s *managedSource) probeIMDS(ctx context.Context) error {
	bounded, cancel := context.WithTimeout(ctx, s.probe)
	defer cancel()
	req, err := http.NewRequestWithContext(bounded, http.MethodGet, imdsProbeURL, nil)
	if err != nil {
		return err
	}
	resp, err := s.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fetcherr.ClassifyAs("azure", ctx.Err())
		}
		return s.probeTimedOut(err)
	}
	resp.Body.Close()
	return nil
}

// acquire gets a token from MSAL, after a probe if probing.
func (s *managedSource) acquire(ctx context.Context, opts ...managedidentity.AcquireTokenOption) (managedidentity.AuthResult, error) {
	if s.probing() {
		if err := s.probeIMDS(ctx); err != nil {
			return managedidentity.AuthResult{}, err
		}
	}
	res, err := s.client.AcquireToken(ctx, s.scope, opts...)
	if err != nil {
		err = s.classify(err)
	}
	if err == nil || answered(err) {
		s.present.Store(true)
	}
	return res, err
}

// managedLink is the Default chain's managed-identity link. Its failure
// ends the chain if the endpoint answered as a managed identity's does (see
// answered), now or on any earlier fetch: once the host has shown it has a
// managed identity, a later timeout does not let another credential stand
// in for it.
func managedLink(src tokensource.ContextTokenSource, err error) link {
	src = inChain(src)
	final := answered
	if s, ok := src.(*managedSource); ok {
		final = func(err error) bool { return answered(err) || s.present.Load() }
	}
	return newLink(ManagedIdentityCredential, final, src, err)
}

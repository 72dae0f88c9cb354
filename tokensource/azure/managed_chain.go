package azure

import (
	"context"
	"os"
	"strings"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/managedidentity"
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

// probing reports whether the next request is a probe: the source probes
// (see inChain) and its endpoint has not answered yet. Unlike azidentity,
// which probes IMDS with a request lacking its Metadata header, the probe is
// MSAL's token request itself, so that the managed identity's protocols
// stay MSAL's alone; a host with IMDS answers it well within the bound.
func (s *managedSource) probing() bool { return s.probe > 0 && !s.http.answered.Load() }

// acquire gets a token from MSAL, a probe bounded by s.probe if probing.
func (s *managedSource) acquire(ctx context.Context, opts ...managedidentity.AcquireTokenOption) (managedidentity.AuthResult, error) {
	probing := s.probing()
	bounded, cancel := ctx, context.CancelFunc(func() {})
	if probing {
		bounded, cancel = context.WithTimeout(ctx, s.probe)
	}
	defer cancel()
	res, err := s.client.AcquireToken(bounded, s.scope, opts...)
	switch {
	case err == nil:
		return res, nil
	case probing && ctx.Err() == nil && timedOut(err):
		return res, s.probeTimedOut(err)
	}
	return res, s.classify(err)
}

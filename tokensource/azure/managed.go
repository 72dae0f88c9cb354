package azure

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/managedidentity"
	"github.com/grpccreds/grpccreds/internal/engine"
	"github.com/grpccreds/grpccreds/tokensource"
	"golang.org/x/oauth2"
)

// imdsConnectTimeout bounds how long connecting to a managed-identity
// endpoint may take. Every such endpoint is on the machine or link-local, so
// a healthy one connects in well under a millisecond; off Azure, IMDS's
// address 169.254.169.254 usually drops the connection attempt, and without
// this bound the first fetch would hang until the engine's fetch timeout.
const imdsConnectTimeout = time.Second

// imdsAnswerTimeout bounds the wait for an endpoint's answer once connected,
// so that something on 169.254.169.254 that accepts connections and never
// answers (a VPN, a transparent proxy) costs 10 seconds, not the engine's
// whole fetch timeout.
const imdsAnswerTimeout = 10 * time.Second

// ManagedIdentity describes an Azure managed identity: the identity Azure
// gives a VM, App Service, Functions, Container Apps, an Arc-enabled server,
// Cloud Shell, Service Fabric or Azure ML. MSAL's managedidentity package
// detects which of these hosts the program runs on from its environment and
// speaks its protocol.
type ManagedIdentity struct {
	// ClientID, ObjectID or ResourceID selects a user-assigned identity; set
	// at most one. With none, the host's system-assigned identity is used.
	ClientID   string
	ObjectID   string
	ResourceID string
	// Scope is the one resource to get tokens for, e.g.
	// "api://energy-trading/.default" (the "/.default" suffix is optional).
	Scope string
	// HTTPClient, if set, replaces the client that reaches the endpoint. The
	// default never uses a proxy, gives up connecting after 1 second and
	// waiting for an answer after 10, and keeps no idle connections. Either
	// way, redirects are never followed: the requests carry the host's
	// secrets (App Service's identity header, Azure ML's secret).
	HTTPClient *http.Client
}

// TokenSource checks the configuration and returns the source.
//
// Retries are the refresh engine's alone: MSAL's own retry policy is turned
// off, so a failing endpoint sees one request per engine attempt, spaced by
// the engine's backoff, instead of MSAL's three back-to-back tries inside
// each. A fetch that replaces the engine's token bypasses MSAL's token
// cache (see [Confidential.TokenSource]); IMDS itself may still hand back a
// token it caches, which the engine serves until a new one comes (see
// tokensource.Refreshing).
//
// Off Azure, the first fetch fails within about 1 second (the connect bound
// above) with Unavailable, saying that no managed-identity endpoint
// answered; so does one that Docker Desktop answers for IMDS (HTTP 403,
// "host is unreachable"), or that a proxy answers with something other than
// a token response. An identity the host does not have (IMDS answers 400
// "Identity not found") is Unauthenticated. Every failure's message names
// the managed identity and the host MSAL picked: IMDS, App Service, Cloud
// Shell, Azure Arc, Service Fabric or Azure ML.
func (m ManagedIdentity) TokenSource() (tokensource.ContextTokenSource, error) {
	id, err := m.id()
	if err != nil {
		return nil, err
	}
	if m.Scope == "" {
		return nil, invalid("managed identity needs a Scope")
	}
	hc := &answerClient{c: m.client()}
	client, err := managedidentity.New(id, managedidentity.WithHTTPClient(hc), managedidentity.WithRetryPolicyDisabled())
	if err != nil {
		return nil, invalid("managed identity: %v", err)
	}
	source, _ := managedidentity.GetSource()
	return &managedSource{client: client, http: hc, source: source, scope: m.Scope, userAssigned: len(m.ids()) > 0}, nil
}

// managedSource fetches tokens for a managed identity, as
// [ManagedIdentity.TokenSource] describes.
type managedSource struct {
	client managedidentity.Client
	http   *answerClient
	source managedidentity.Source
	scope  string
	// userAssigned says whether a user-assigned identity is asked for.
	userAssigned bool
	// probe, if set, bounds the Default chain's probe of IMDS (see
	// inChain).
	probe time.Duration
	// present records that the endpoint answered as a managed identity's
	// (see managedLink).
	present atomic.Bool
}

func (s *managedSource) Token() (*oauth2.Token, error) { return s.TokenContext(context.Background()) }

func (s *managedSource) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	var opts []managedidentity.AcquireTokenOption
	if engine.Replacing(ctx) {
		opts = append(opts, managedidentity.WithClaims(refreshClaims(time.Now())))
	}
	res, err := s.acquire(ctx, opts...)
	if err != nil {
		return nil, err
	}
	if s.source == managedidentity.DefaultToIMDS {
		// IMDS hands back its cached token until shortly before expiry,
		// whatever MSAL is told.
		return cachedToken(ctx, res.AccessToken, res.ExpiresOn, res.Metadata.RefreshOn), nil
	}
	return engineToken(ctx, res.AccessToken, res.ExpiresOn, res.Metadata.RefreshOn), nil
}

// id turns the configured selector into MSAL's.
func (m ManagedIdentity) id() (managedidentity.ID, error) {
	ids := m.ids()
	switch len(ids) {
	case 0:
		return managedidentity.SystemAssigned(), nil
	case 1:
		return ids[0], nil
	}
	return nil, invalid("managed identity: set at most one of ClientID, ObjectID and ResourceID")
}

// ids returns the user-assigned identities the configuration selects.
func (m ManagedIdentity) ids() []managedidentity.ID {
	var ids []managedidentity.ID
	if m.ClientID != "" {
		ids = append(ids, managedidentity.UserAssignedClientID(m.ClientID))
	}
	if m.ObjectID != "" {
		ids = append(ids, managedidentity.UserAssignedObjectID(m.ObjectID))
	}
	if m.ResourceID != "" {
		ids = append(ids, managedidentity.UserAssignedResourceID(m.ResourceID))
	}
	return ids
}

// client returns the HTTP client for the endpoint: the caller's, or the
// default, never following redirects.
func (m ManagedIdentity) client() *http.Client {
	if m.HTTPClient == nil {
		return newManagedClient((&net.Dialer{}).DialContext)
	}
	c := *m.HTTPClient
	c.CheckRedirect = noRedirects
	return &c
}

func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// newManagedClient returns the HTTP client for managed-identity endpoints:
// no proxy (the endpoints are local or link-local, and a proxy must never see
// these requests), a bounded connect and wait for an answer, no redirects,
// and no idle connections left behind (a request an hour does not need them).
func newManagedClient(dial func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Client {
	return &http.Client{CheckRedirect: noRedirects, Transport: &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			ctx, cancel := context.WithTimeout(ctx, imdsConnectTimeout)
			defer cancel()
			return dial(ctx, network, addr)
		},
		ResponseHeaderTimeout: imdsAnswerTimeout,
		DisableKeepAlives:     true,
	}}
}

package azure

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/grpccredstest/azuretest"
	"github.com/grpccreds/grpccreds/internal/engine"
	"github.com/grpccreds/grpccreds/internal/enginetest"
	"github.com/grpccreds/grpccreds/internal/fetcherr"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// chainHost is a machine for the default chain: the authority (with its
// managed-identity endpoints), none of the chain's variables set, and no az
// or azd on PATH. Its HTTP client trusts the authority and dials only
// loopback: the authority's HTTPS address as asked, anything else (IMDS's
// 169.254.169.254) at mi, the managed-identity endpoints or a closed port.
type chainHost struct {
	s   *grpccredstest.IdentityProvider
	bin string // the directory on PATH
	mi  string
}

func newChainHost(t *testing.T, imdsAnswers bool) *chainHost {
	t.Helper()
	s, _ := managedHost(t)
	h := &chainHost{s: s, bin: t.TempDir(), mi: azuretest.ManagedIdentityAddr(s)}
	if !imdsAnswers {
		h.mi = closedPort(t)
	}
	for _, k := range []string{"AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH",
		"AZURE_CLIENT_CERTIFICATE_PASSWORD", "AZURE_FEDERATED_TOKEN_FILE", "AZURE_TOKEN_CREDENTIALS"} {
		t.Setenv(k, "") // restores k when the test ends
		os.Unsetenv(k)  // unset, not empty: an empty AZURE_TOKEN_CREDENTIALS is refused
	}
	t.Setenv("AZURE_AUTHORITY_HOST", s.URL)
	t.Setenv("PATH", h.bin)
	return h
}

func closedPort(t *testing.T) string {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	return addr
}

func (h *chainHost) client() *http.Client {
	https := strings.TrimPrefix(h.s.URL, "https://")
	dial := func(ctx context.Context, _, addr string) (net.Conn, error) {
		if addr != https {
			addr = h.mi
		}
		return (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	}
	c := newManagedClient(dial)
	roots := x509.NewCertPool()
	roots.AddCert(h.s.CA.Certificate)
	c.Transport.(*http.Transport).TLSClientConfig = &tls.Config{RootCAs: roots}
	return c
}

// cli puts an executable script called name on PATH that prints out.
func (h *chainHost) cli(t *testing.T, name, out string) {
	t.Helper()
	script := "#!/bin/sh\necho run >> '" + filepath.Join(h.bin, name+".runs") + "'\n" + out + "\n"
	if err := os.WriteFile(filepath.Join(h.bin, name), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
}

func (h *chainHost) runs(name string) int {
	b, _ := os.ReadFile(filepath.Join(h.bin, name+".runs"))
	return strings.Count(string(b), "run")
}

func (h *chainHost) token(t *testing.T) (string, error) {
	t.Helper()
	tok, err := refresher(t, h.chain(t)).Token()
	if err != nil {
		return "", err
	}
	return tok.AccessToken, nil
}

// chain is the default chain on this host: every client trusts the authority
// and dials only loopback.
func (h *chainHost) chain(t *testing.T) Default {
	return Default{Scope: scope(t), HTTPClient: h.client(), ManagedIdentityHTTPClient: h.client(),
		MSAL: []confidential.Option{confidential.WithInstanceDiscovery(false)}}
}

func (h *chainHost) app(t *testing.T) {
	t.Setenv("AZURE_TENANT_ID", enginetest.Tenant)
	t.Setenv("AZURE_CLIENT_ID", enginetest.ClientID)
}

const azOut = `echo '{"accessToken": "az-token", "expires_on": 4102444800}'`
const azdOut = `echo '{"token": "azd-token", "expiresOn": "2100-01-01T00:00:00Z"}'`

func TestDefaultEnvironmentSecret(t *testing.T) {
	h := newChainHost(t, true)
	h.app(t)
	t.Setenv("AZURE_CLIENT_SECRET", enginetest.Secret)
	h.cli(t, "az", azOut)
	if _, err := h.token(t); err != nil || h.s.TokenRequests() != 1 || azuretest.ManagedIdentityRequests(h.s) != 0 || h.runs("az") != 0 {
		t.Fatalf("%v; %d token requests, %d managed-identity requests, %d az runs; want the environment's secret alone",
			err, h.s.TokenRequests(), azuretest.ManagedIdentityRequests(h.s), h.runs("az"))
	}
}

func TestDefaultEnvironmentCertificate(t *testing.T) {
	h := newChainHost(t, true)
	h.app(t)
	file := filepath.Join(t.TempDir(), "app.pem")
	os.WriteFile(file, enginetest.RSACertPEM(t), 0o600)
	t.Setenv("AZURE_CLIENT_CERTIFICATE_PATH", file)
	if _, err := h.token(t); err != nil || h.s.TokenRequests() != 1 || strings.Count(azuretest.LastAssertion(h.s), ".") != 2 {
		t.Fatalf("%v; %d token requests; want one with a signed assertion", err, h.s.TokenRequests())
	}
}

func TestDefaultWorkloadIdentity(t *testing.T) {
	h := newChainHost(t, true)
	h.app(t)
	file := filepath.Join(t.TempDir(), "federated")
	os.WriteFile(file, []byte("eyJhbGciOiJSUzI1NiJ9.federated-marker.sig"), 0o600)
	t.Setenv("AZURE_FEDERATED_TOKEN_FILE", file)
	if _, err := h.token(t); err != nil || azuretest.LastAssertion(h.s) != "eyJhbGciOiJSUzI1NiJ9.federated-marker.sig" {
		t.Fatalf("%v; assertion %q; want the federated token", err, azuretest.LastAssertion(h.s))
	}
}

func TestDefaultManagedIdentity(t *testing.T) {
	h := newChainHost(t, true)
	h.cli(t, "az", azOut)
	// Two requests: the chain's probe of IMDS (without the Metadata header,
	// answered 400 at once), then MSAL's token request.
	if _, err := h.token(t); err != nil || azuretest.ManagedIdentityRequests(h.s) != 2 || h.runs("az") != 0 {
		t.Fatalf("%v; %d managed-identity requests, %d az runs; want the managed identity after a probe", err, azuretest.ManagedIdentityRequests(h.s), h.runs("az"))
	}
}

// Off Azure the chain passes the managed identity and reaches the CLIs; the
// first that works is kept.
func TestDefaultCLIsAndTheFirstThatWorksIsKept(t *testing.T) {
	h := newChainHost(t, false)
	h.cli(t, "az", `echo "ERROR: Please run 'az login' to setup account." >&2; exit 1`)
	h.cli(t, "azd", azdOut)
	g, _ := engine.Of(refresher(t, h.chain(t)))
	tok, gen, err := g.TokenGeneration(context.Background(), 0)
	if err != nil || tok.AccessToken != "azd-token" {
		t.Fatalf("%v, %v; want azd's token", tok, err)
	}
	h.cli(t, "az", azOut) // az would work now, but azd was chosen
	g.Invalidate(gen)
	if _, _, err := g.TokenGeneration(context.Background(), gen); err == nil {
		t.Fatal("azd hands back the same token, so no newer generation should exist")
	}
	// The engine may retry azd on its backoff meanwhile; az must never run again.
	if h.runs("az") != 1 || h.runs("azd") < 2 {
		t.Fatalf("az ran %d times, azd %d; want az once and azd at least twice", h.runs("az"), h.runs("azd"))
	}
}

// A wrong secret in the environment stops the chain: another identity must
// not stand in for the one configured.
func TestDefaultStopsAtARejectedSecret(t *testing.T) {
	h := newChainHost(t, true)
	h.app(t)
	t.Setenv("AZURE_CLIENT_SECRET", "wrong-secret-marker-1e4b")
	h.cli(t, "az", azOut)
	_, err := h.token(t)
	if status.Code(err) != codes.Unauthenticated || !strings.Contains(err.Error(), "stopped at EnvironmentCredential") ||
		strings.Contains(err.Error(), "marker") || h.runs("az") != 0 || azuretest.ManagedIdentityRequests(h.s) != 0 {
		t.Fatalf("%v; %d az runs; want Unauthenticated naming EnvironmentCredential, nothing after it", err, h.runs("az"))
	}
}

func TestDefaultNothingWorks(t *testing.T) {
	h := newChainHost(t, false)
	_, err := h.token(t)
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("%v, want Unavailable", err)
	}
	for _, want := range []string{"EnvironmentCredential: skipped", "WorkloadIdentityCredential: skipped", "ManagedIdentityCredential: managed identity: IMDS",
		"AzureCLICredential: Azure CLI (az) is not installed", "AzureDeveloperCLICredential: Azure Developer CLI (azd) is not installed"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q: %v", want, err)
		}
	}
}

func TestDefaultNarrowedByAzureTokenCredentials(t *testing.T) {
	h := newChainHost(t, true)
	h.app(t)
	t.Setenv("AZURE_CLIENT_SECRET", enginetest.Secret)
	h.cli(t, "az", azOut)
	for _, tc := range []struct{ v, want string }{{"dev", "az-token"}, {"AzureCLICredential", "az-token"}, {"azureclicredential", "az-token"}} {
		t.Setenv("AZURE_TOKEN_CREDENTIALS", tc.v)
		if tok, err := h.token(t); err != nil || tok != tc.want {
			t.Errorf("%s: %q, %v; want %s", tc.v, tok, err, tc.want)
		}
	}
	if h.s.TokenRequests() != 0 {
		t.Fatalf("dev asked the environment's credential: %d token requests", h.s.TokenRequests())
	}
	t.Setenv("AZURE_TOKEN_CREDENTIALS", "prod")
	if _, err := h.token(t); err != nil || h.s.TokenRequests() != 1 || h.runs("az") != 3 {
		t.Fatalf("prod: %v, %d token requests, %d az runs", err, h.s.TokenRequests(), h.runs("az"))
	}
	t.Setenv("AZURE_TOKEN_CREDENTIALS", "ManagedIdentityCredential")
	t.Setenv("AZURE_CLIENT_ID", "") // else it names a user-assigned identity this host lacks
	if _, err := h.token(t); err != nil || azuretest.ManagedIdentityRequests(h.s) != 1 {
		t.Fatalf("ManagedIdentityCredential alone: %v, %d managed-identity requests", err, azuretest.ManagedIdentityRequests(h.s))
	}
	t.Setenv("AZURE_TOKEN_CREDENTIALS", "laptop")
	if _, err := (Default{Scope: "api://x/.default"}).TokenSource(); err == nil || !strings.Contains(err.Error(), `want "dev" or "prod"`) {
		t.Fatalf("an unknown AZURE_TOKEN_CREDENTIALS: %v", err)
	}
}

// A configured secret whose authority cannot be reached stops the chain too,
// as Unavailable: az must not stand in while Azure AD is down.
func TestDefaultStopsAtAnUnreachableConfiguredCredential(t *testing.T) {
	h := newChainHost(t, true)
	h.app(t)
	t.Setenv("AZURE_CLIENT_SECRET", enginetest.Secret)
	h.cli(t, "az", azOut)
	h.s.SetMode(grpccredstest.Down)
	_, err := h.token(t)
	if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "stopped at EnvironmentCredential") || h.runs("az") != 0 {
		t.Fatalf("%v; %d az runs; want Unavailable naming EnvironmentCredential, and no az", err, h.runs("az"))
	}
}

// An environment that configures an application credential only in part,
// or with a certificate that cannot be read, skips that credential, as
// azidentity's DefaultAzureCredential does (it skips every environment it
// cannot build a credential from), and the chain reaches az.
func TestDefaultSkipsAnIncompleteEnvironment(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"secret without tenant":    {"AZURE_CLIENT_ID": enginetest.ClientID, "AZURE_CLIENT_SECRET": enginetest.Secret},
		"secret without client":    {"AZURE_TENANT_ID": enginetest.Tenant, "AZURE_CLIENT_SECRET": enginetest.Secret},
		"tenant and client only":   {"AZURE_TENANT_ID": enginetest.Tenant, "AZURE_CLIENT_ID": enginetest.ClientID},
		"missing certificate":      {"AZURE_TENANT_ID": enginetest.Tenant, "AZURE_CLIENT_ID": enginetest.ClientID, "AZURE_CLIENT_CERTIFICATE_PATH": "/nonexistent/app.pem"},
		"federated without tenant": {"AZURE_CLIENT_ID": enginetest.ClientID, "AZURE_FEDERATED_TOKEN_FILE": "/nonexistent/token"},
	} {
		t.Run(name, func(t *testing.T) {
			h := newChainHost(t, false)
			for k, v := range env {
				t.Setenv(k, v)
			}
			h.cli(t, "az", azOut)
			if tok, err := h.token(t); err != nil || tok != "az-token" || h.s.TokenRequests() != 0 {
				t.Fatalf("%q, %v; %d token requests; want az's token and no request to Azure AD", tok, err, h.s.TokenRequests())
			}
		})
	}
}

// A managed-identity endpoint that answers, even with an error, means this
// host has managed identity: the chain stops there instead of trying az.
func TestDefaultStopsAtAManagedIdentityThatAnswers(t *testing.T) {
	h := newChainHost(t, true)
	t.Setenv("AZURE_CLIENT_ID", "not-assigned-here")
	h.cli(t, "az", azOut)
	_, err := h.token(t)
	if status.Code(err) != codes.Unauthenticated || !strings.Contains(err.Error(), "stopped at") || h.runs("az") != 0 {
		t.Fatalf("%v; %d az runs; want Unauthenticated stopping at the managed identity, and no az", err, h.runs("az"))
	}
}

// The engine still sees the authority's Retry-After through the chain.
func TestDefaultKeepsRetryAfter(t *testing.T) {
	h := newChainHost(t, true)
	h.app(t)
	t.Setenv("AZURE_CLIENT_SECRET", enginetest.Secret)
	h.s.SetMode(grpccredstest.Fail429)
	_, err := h.token(t)
	var fe *fetcherr.Error
	if !errors.As(err, &fe) || fe.RetryAfter != 7*time.Second || status.Code(err) != codes.Unavailable {
		t.Fatalf("%v; want Unavailable carrying Retry-After 7s", err)
	}
}

// When the only credential that could work is a CLI that is not signed in,
// the chain's answer is Unauthenticated: the fix is to sign in.
func TestDefaultNotSignedInIsUnauthenticated(t *testing.T) {
	h := newChainHost(t, false)
	h.cli(t, "az", `echo "ERROR: Please run 'az login' to setup account." >&2; exit 1`)
	_, err := h.token(t)
	if status.Code(err) != codes.Unauthenticated || !strings.Contains(err.Error(), "run `az login`") {
		t.Fatalf("%v; want Unauthenticated saying to run az login", err)
	}
}

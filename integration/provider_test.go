//go:build integration

package integration

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/grpccredstest"
	"go.uber.org/goleak"
)

const (
	tenant   = "11111111-2222-3333-4444-555555555555"
	clientID = "integration-app"
	secret   = "integration-S3cret-value"
	audience = "api://grpccreds"
	ttl      = 4 * time.Second // short, so expiry can be reached in a test

	// The scopes the API's resources grant; the client may ask for
	// scopeRead only (CLIENT_SCOPE).
	scopeRead  = "orders.read"
	scopeWrite = "orders.write"
	// opaqueAudience is a second resource, whose tokens are opaque; the API
	// introspects them as the client rsClientID.
	opaqueAudience = "api://grpccreds-opaque"
	rsClientID     = "integration-api"
	rsSecret       = "integration-api-S3cret-value"
)

// tenantSpec is what one provider instance serves: its issuer is
// https://127.0.0.1:PORT/<tenant>/v2.0, its tokens are for audience (by
// default), and the signing key it creates has key ID kid.
type tenantSpec struct {
	tenant, audience, kid string
	ca                    *grpccredstest.CA // trusted for its TLS certificate; nil: a fresh CA
	jwtClientJWKS         string            // the public keys (a JSON JWKS) of the private_key_jwt client jwtClientID; "": no such client
}

var tenantA = tenantSpec{tenant: tenant, audience: audience, kid: "integration-1"}

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// provider is a running oidc-provider process.
type provider struct {
	tenantSpec
	dir     string
	ca      *grpccredstest.CA
	port    string
	cmd     *exec.Cmd
	clients []*http.Client
}

func (p *provider) authorityHost() string { return "https://127.0.0.1:" + p.port }
func (p *provider) issuer() string        { return p.authorityHost() + "/" + p.tenant + "/v2.0" }
func (p *provider) tokenURL() string      { return p.issuer() + "/token" }
func (p *provider) jwksURL() string       { return p.issuer() + "/jwks" }
func (p *provider) discoveryURL() string  { return p.issuer() + "/.well-known/openid-configuration" }
func (p *provider) jwksFile() string      { return filepath.Join(p.dir, "jwks.json") }

// httpClient trusts the provider's certificate; its idle connections are
// closed when the test ends.
func (p *provider) httpClient() *http.Client {
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConfig(p.ca)}}
	p.clients = append(p.clients, c)
	return c
}

// startProvider starts oidc-provider for tenantA with a certificate from a
// fresh CA and stops it (by its process group) when the test ends, even on
// failure.
func startProvider(t *testing.T) *provider { return startTenant(t, tenantA) }

// startTenant is startProvider for any tenant; give spec.ca to have several
// providers trusted by one HTTP client.
func startTenant(t *testing.T, spec tenantSpec) *provider {
	t.Helper()
	p := &provider{tenantSpec: spec, dir: t.TempDir(), ca: spec.ca, port: "0"}
	if p.ca == nil {
		p.ca = grpccredstest.NewCA(t, "integration CA")
	}
	leaf := p.ca.Server()
	os.WriteFile(filepath.Join(p.dir, "cert.pem"), leaf.CertPEM, 0o600)
	os.WriteFile(filepath.Join(p.dir, "key.pem"), leaf.KeyPEM, 0o600)
	p.start(t)
	t.Cleanup(func() {
		p.stop()
		for _, c := range p.clients {
			c.CloseIdleConnections()
		}
	})
	return p
}

func (p *provider) start(t *testing.T) {
	t.Helper()
	cmd := exec.Command("node", "provider.mjs")
	cmd.Env = append(os.Environ(), "PORT="+p.port, "TENANT="+p.tenant, "CLIENT_ID="+clientID, "CLIENT_SECRET="+secret,
		"AUDIENCE="+p.audience, fmt.Sprintf("TTL=%d", int(ttl.Seconds())),
		"SCOPES="+scopeRead+" "+scopeWrite, "CLIENT_SCOPE="+scopeRead,
		"OPAQUE_AUDIENCE="+opaqueAudience, "RS_CLIENT_ID="+rsClientID, "RS_CLIENT_SECRET="+rsSecret,
		"CERT_FILE="+filepath.Join(p.dir, "cert.pem"), "KEY_FILE="+filepath.Join(p.dir, "key.pem"),
		"JWKS_FILE="+p.jwksFile(), "KID="+p.kid)
	if p.jwtClientJWKS != "" {
		cmd.Env = append(cmd.Env, "JWT_CLIENT_ID="+jwtClientID, "JWT_CLIENT_JWKS="+p.jwtClientJWKS)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting oidc-provider (run make integration, which installs it): %v", err)
	}
	p.cmd = cmd
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if port, ok := strings.CutPrefix(sc.Text(), "LISTENING "); ok {
				ready <- port
			}
		}
	}()
	select {
	case p.port = <-ready:
	case <-time.After(30 * time.Second):
		p.stop()
		t.Fatal("oidc-provider did not start within 30 s")
	}
}

// stop kills the provider's process group and waits for it.
func (p *provider) stop() {
	if p.cmd == nil {
		return
	}
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	p.cmd.Wait()
	p.cmd = nil
}

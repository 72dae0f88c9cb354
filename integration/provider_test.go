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
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// provider is a running oidc-provider process.
type provider struct {
	dir     string
	ca      *grpccredstest.CA
	port    string
	cmd     *exec.Cmd
	clients []*http.Client
}

func (p *provider) authorityHost() string { return "https://127.0.0.1:" + p.port }
func (p *provider) issuer() string        { return p.authorityHost() + "/" + tenant + "/v2.0" }
func (p *provider) tokenURL() string      { return p.issuer() + "/token" }
func (p *provider) jwksURL() string       { return p.issuer() + "/jwks" }

// httpClient trusts the provider's certificate; its idle connections are
// closed when the test ends.
func (p *provider) httpClient() *http.Client {
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConfig(p.ca)}}
	p.clients = append(p.clients, c)
	return c
}

// startProvider starts oidc-provider with a certificate from a fresh CA and
// stops it (by its process group) when the test ends, even on failure.
func startProvider(t *testing.T) *provider {
	t.Helper()
	p := &provider{dir: t.TempDir(), ca: grpccredstest.NewCA(t, "integration CA"), port: "0"}
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
	cmd.Env = append(os.Environ(), "PORT="+p.port, "TENANT="+tenant, "CLIENT_ID="+clientID, "CLIENT_SECRET="+secret,
		"AUDIENCE="+audience, fmt.Sprintf("TTL=%d", int(ttl.Seconds())),
		"CERT_FILE="+filepath.Join(p.dir, "cert.pem"), "KEY_FILE="+filepath.Join(p.dir, "key.pem"),
		"JWKS_FILE="+filepath.Join(p.dir, "jwks.json"))
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

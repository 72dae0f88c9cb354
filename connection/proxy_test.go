package connection

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/composite"
	"github.com/grpccreds/grpccreds/creds"
	"github.com/grpccreds/grpccreds/grpccredstest"
	"golang.org/x/oauth2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// net/http reads HTTPS_PROXY once per process, so the client side of the
// proxy test runs in a child process of the test binary: TestMain runs
// proxyChild instead of the tests when childTarget is set.
const (
	childTarget = "GRPCCREDS_TEST_PROXY_TARGET"
	childToken  = "proxied-token-marker-5e1f"
)

// connectProxy is an HTTP CONNECT proxy on 127.0.0.1, such as a corporate
// agent or mitmproxy. Whatever host it is asked for, it connects to that
// port on 127.0.0.1, so the test never leaves loopback.
type connectProxy struct {
	lis      net.Listener
	wg       sync.WaitGroup
	mu       sync.Mutex
	requests []string
	conns    []net.Conn
}

func startProxy(t *testing.T) *connectProxy {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &connectProxy{lis: lis}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(p.close)
	return p
}

func (p *connectProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.lis.Accept()
		if err != nil {
			return
		}
		p.track(c)
		p.wg.Add(1)
		go p.handle(c)
	}
}

func (p *connectProxy) handle(c net.Conn) {
	defer p.wg.Done()
	defer c.Close()
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil || req.Method != http.MethodConnect {
		return
	}
	p.mu.Lock()
	p.requests = append(p.requests, req.Host)
	p.mu.Unlock()
	_, port, _ := net.SplitHostPort(req.Host)
	up, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		return
	}
	p.track(up)
	defer up.Close()
	if _, err := io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		return
	}
	go func() { io.Copy(up, br); up.Close() }()
	io.Copy(c, up)
}

func (p *connectProxy) track(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.conns = append(p.conns, c)
}

func (p *connectProxy) close() {
	p.lis.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *connectProxy) connects() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.requests...)
}

// A local proxy to a remote host must not turn the loopback opt-in into
// plaintext to that host. Through a real CONNECT proxy on 127.0.0.1 (whose
// address is the only peer gRPC sees), every way of sending a token in
// plaintext is refused with Unauthenticated naming the reason, while a call
// without a token still goes through, and the far server never sees a token.
func TestProxiedPlaintextNeverCarriesATokenToARemoteHost(t *testing.T) {
	far := grpccredstest.NewServer(t, grpccredstest.ServerConfig{Insecure: true})
	_, port, _ := net.SplitHostPort(far.Addr)
	proxy := startProxy(t)
	target := net.JoinHostPort("api.example.com", port)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childTarget+"="+target,
		"HTTPS_PROXY=http://"+proxy.lis.Addr().String(), "https_proxy=", "NO_PROXY=", "no_proxy=")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	want := map[string]string{
		"InsecureLoopback transport":            "Unauthenticated: creds: refusing to send credentials in plaintext: the target host \"api.example.com\" is not a loopback address; the connection reaches it through 127.0.0.1:",
		"insecure transport":                    "Unauthenticated: creds: refusing to send credentials in plaintext: the connection's transport credentials cannot vouch",
		"Insecure with smuggled credentials":    "Unauthenticated: creds: refusing to send credentials in plaintext: the target host \"api.example.com\" is not a loopback address; the connection reaches it through 127.0.0.1:",
		"Insecure with Connection.WithToken":    "Unauthenticated: creds: refusing to send credentials in plaintext: the target host \"api.example.com\" is not a loopback address; the connection reaches it through 127.0.0.1:",
		"Insecure without a token (path works)": "OK",
	}
	got := parseChild(string(out))
	for name, prefix := range want {
		if !strings.HasPrefix(got[name], prefix) {
			t.Errorf("%s: %q, want %q…", name, got[name], prefix)
		}
	}
	if !strings.Contains(got["InsecureLoopback transport"], "a proxy or tunnel") {
		t.Errorf("the refusal does not name the proxy: %q", got["InsecureLoopback transport"])
	}
	if c := proxy.connects(); len(c) == 0 || c[0] != target {
		t.Fatalf("proxy saw CONNECT %q, want %q: the calls did not go through it", c, target)
	}
	for _, a := range far.Auth() {
		if len(a) != 0 {
			t.Fatalf("the far server saw authorization %q", a)
		}
	}
	if n := len(far.Auth()); n != 1 {
		t.Fatalf("the far server saw %d calls, want the one without a token", n)
	}
}

func parseChild(out string) map[string]string {
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if name, result, ok := strings.Cut(line, "\t"); ok {
			got[name] = result
		}
	}
	return got
}

// proxyChild makes the calls of the proxy test and prints one line per call:
// its name, a tab, and its outcome. It runs with HTTPS_PROXY set.
func proxyChild() int {
	target := os.Getenv(childTarget)
	bearer := creds.NewBearer(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: childToken}), creds.AllowInsecureLoopback())
	calls := []struct {
		name string
		run  func() error
	}{
		{"InsecureLoopback transport", func() error {
			return viaGRPC(target, grpc.WithTransportCredentials(composite.InsecureLoopback()), grpc.WithPerRPCCredentials(bearer))
		}},
		{"insecure transport", func() error {
			return viaGRPC(target, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithPerRPCCredentials(bearer))
		}},
		{"Insecure with smuggled credentials", func() error {
			return viaInsecure(target, "", WithDialOptions(grpc.WithPerRPCCredentials(bearer)))
		}},
		{"Insecure with Connection.WithToken", func() error { return viaInsecure(target, childToken) }},
		{"Insecure without a token (path works)", func() error { return viaInsecure(target, "") }},
	}
	for _, c := range calls {
		err := c.run()
		fmt.Printf("%s\t%s", c.name, status.Code(err))
		if err != nil {
			fmt.Printf(": %s", status.Convert(err).Message())
		}
		fmt.Println()
	}
	return 0
}

func viaGRPC(target string, opts ...grpc.DialOption) error {
	cc, err := grpc.NewClient(target, opts...)
	if err != nil {
		return err
	}
	defer cc.Close()
	return call(context.Background(), cc)
}

func viaInsecure(target, token string, opts ...Option) error {
	c, err := Insecure(target, opts...)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx := context.Background()
	if token != "" {
		ctx = c.WithToken(ctx, token)
	}
	return call(ctx, c)
}

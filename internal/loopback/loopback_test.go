package loopback

import (
	"net"
	"strings"
	"testing"
)

func TestLoopbackDestination(t *testing.T) {
	tcp := func(ip string, port int) net.Addr { return &net.TCPAddr{IP: net.ParseIP(ip), Port: port} }
	for _, tc := range []struct {
		authority string
		remote    net.Addr
		reason    string // "" when the destination is loopback
	}{
		{"127.0.0.1:50051", tcp("127.0.0.1", 50051), ""},
		{"localhost:50051", tcp("::1", 50051), ""},
		{"[::1]:50051", tcp("::1", 50051), ""},
		{"127.0.0.2:8080", tcp("127.0.0.2", 8080), ""},
		{"localhost", tcp("127.0.0.1", 443), ""},
		{"localhost", &net.UnixAddr{Name: "/run/app.sock", Net: "unix"}, ""},
		{"api.example.com:50051", tcp("127.0.0.1", 3128), "the target host \"api.example.com\" is not a loopback address; the connection reaches it through 127.0.0.1:3128, a proxy or tunnel"},
		{"10.1.2.3:50051", tcp("127.0.0.1", 50051), "the target host \"10.1.2.3\" is not a loopback address"},
		{"localhost:50051", tcp("127.0.0.1", 3128), "the connection goes to 127.0.0.1:3128, not to port 50051 of the target: it passes through a proxy or tunnel"},
		{"localhost", tcp("127.0.0.1", 8080), "not to port 443 of the target"},
		{"localhost:50051", tcp("10.0.0.7", 50051), "the connection goes to 10.0.0.7:50051, which is not a loopback address"},
		{"api.example.com:443", &net.UnixAddr{Name: "/run/forwarder.sock", Net: "unix"}, "through the Unix socket /run/forwarder.sock, a proxy or tunnel"},
		{"localhost:50051", nil, "no remote address"},
	} {
		err := destination(tc.authority, tc.remote)
		switch {
		case tc.reason == "" && err != nil:
			t.Errorf("%s via %s: %v, want loopback", tc.authority, tc.remote, err)
		case tc.reason != "" && (err == nil || !strings.Contains(err.Error(), tc.reason)):
			t.Errorf("%s via %s: %v, want %q", tc.authority, tc.remote, err, tc.reason)
		}
	}
}

// One parser decides for a dial target, as for the handshake's authority.
func TestTarget(t *testing.T) {
	for target, want := range map[string]bool{
		"127.0.0.1:50051": true, "localhost:8080": true, "[::1]:443": true, "dns:///localhost:1": true,
		"passthrough:///127.0.0.2:9": true, "unix:/run/app.sock": true, "unix-abstract:app": true, "localhost": true,
		"api.example.com:443": false, "10.0.0.7:50051": false, "dns:///example.com": false, "[::2]:443": false,
		"localhost.example.com:443": false, "": false,
	} {
		if got := Target(target); got != want {
			t.Errorf("Target(%q) = %v, want %v", target, got, want)
		}
	}
}

package composite_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/composite"
	"github.com/grpccreds/grpccreds/grpccredstest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/tls/certprovider"
	"google.golang.org/grpc/credentials/tls/certprovider/pemfile"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/peer"
)

// peers records the serial number of the client certificate each call's
// connection was made with, as a server requiring client certificates sees
// it.
type peers struct {
	mu      sync.Mutex
	serials []string
}

func (p *peers) option() grpc.ServerOption {
	return grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		pr, _ := peer.FromContext(ctx)
		if info, ok := pr.AuthInfo.(credentials.TLSInfo); ok && len(info.State.PeerCertificates) > 0 {
			p.mu.Lock()
			p.serials = append(p.serials, info.State.PeerCertificates[0].SerialNumber.Text(16))
			p.mu.Unlock()
		}
		return h(ctx, req)
	})
}

func (p *peers) last() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.serials) == 0 {
		return ""
	}
	return p.serials[len(p.serials)-1]
}

// newConnection makes one call on a new channel (so a new handshake) with tc.
func newConnection(t *testing.T, addr string, tc credentials.TransportCredentials) error {
	t.Helper()
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(tc))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return grpccredstest.HealthCheck(ctx, cc)
}

// events collects a TLSCredentials' events.
type events chan composite.TLSEvent

func (e events) observe(ev composite.TLSEvent) { e <- ev }

// next waits for the next event of kind, skipping none: an event of another
// kind fails the test.
func (e events) next(t *testing.T, kind composite.TLSEventKind) composite.TLSEvent {
	t.Helper()
	select {
	case ev := <-e:
		if ev.Kind != kind {
			t.Fatalf("event %v (%v), want %v", ev.Kind, ev.Err, kind)
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatalf("no %v event within 5 s", kind)
	}
	return composite.TLSEvent{}
}

// until waits for the certificate with serial to be applied, past refusals
// of files caught half written.
func (e events) until(t *testing.T, serial string) {
	t.Helper()
	for {
		select {
		case ev := <-e:
			if ev.Kind == composite.CertificateApplied && ev.Serial == serial {
				return
			}
			if ev.Kind != composite.CertificateRefused && ev.Kind != composite.CertificateApplied {
				t.Fatalf("event %v while waiting for certificate %s", ev.Kind, serial)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("certificate %s not applied within 5 s", serial)
		}
	}
}

// quiet waits until no event has arrived for 50 ms, failing on any event
// but a certificate refusal.
func (e events) quiet(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		select {
		case ev := <-e:
			if ev.Kind != composite.CertificateRefused {
				t.Fatalf("unexpected event %v", ev.Kind)
			}
		case <-time.After(50 * time.Millisecond):
			return
		}
	}
	t.Fatal("events did not stop within 5 s")
}

// settle returns the events that arrive until none has for 50 ms (at least
// one).
func (e events) settle(t *testing.T) []composite.TLSEvent {
	t.Helper()
	var got []composite.TLSEvent
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		select {
		case ev := <-e:
			got = append(got, ev)
		case <-time.After(50 * time.Millisecond):
			if len(got) > 0 {
				return got
			}
		}
	}
	t.Fatal("no event within 5 s")
	return nil
}

// write replaces a file at once (a new file renamed over the old), as
// rotating tools do: a reader sees the old contents or the new ones, never a
// truncated file. Tearing still happens between two files.
func write(t *testing.T, path string, b []byte) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func serial(l grpccredstest.Leaf) string { return l.TLS.Leaf.SerialNumber.Text(16) }

// TestClientCertificateFilesRotate: a server requiring client certificates
// sees the new certificate on new connections once the files change; a torn
// write (new certificate, old key), an expired or not yet valid certificate,
// garbage, an empty file and a missing file are each refused once, with an
// event, and the last good certificate stays in use.
func TestClientCertificateFilesRotate(t *testing.T) {
	clients := grpccredstest.NewCA(t, "clients")
	var seen peers
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{ClientCAs: clients, Options: []grpc.ServerOption{seen.option()}})
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	first := clients.Client("svc")
	write(t, certFile, first.CertPEM)
	write(t, keyFile, first.KeyPEM)
	ev := make(events, 16)
	tc, err := composite.TLS(srv.CA.PEM, composite.WithClientCertificateFiles(certFile, keyFile),
		composite.WithReload(5*time.Millisecond), composite.WithTLSObserver(ev.observe))
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	if e := ev.next(t, composite.CertificateApplied); e.Serial != serial(first) || !strings.Contains(e.Origin, "tls.crt") {
		t.Fatalf("initial event %+v", e)
	}
	ev.next(t, composite.RootsApplied)
	presents := func(want grpccredstest.Leaf) {
		t.Helper()
		if err := newConnection(t, srv.Addr, tc); err != nil {
			t.Fatal(err)
		}
		if got := seen.last(); got != serial(want) {
			t.Fatalf("server saw certificate %s, want %s", got, serial(want))
		}
	}
	presents(first)

	second := clients.Client("svc")
	write(t, certFile, second.CertPEM) // torn: the new certificate with the old key
	if e := ev.next(t, composite.CertificateRefused); !strings.Contains(e.Err.Error(), "private key does not match") {
		t.Fatalf("torn write refused with %v", e.Err)
	}
	presents(first)
	write(t, keyFile, second.KeyPEM)
	if e := ev.next(t, composite.CertificateApplied); e.Serial != serial(second) || !e.NotAfter.Equal(second.TLS.Leaf.NotAfter) {
		t.Fatalf("applied %+v", e)
	}
	presents(second)

	now := time.Now()
	for _, c := range []struct {
		name      string
		cert, key []byte
		want      string
	}{
		{"expired", nil, nil, "expired at"},
		{"not yet valid", nil, nil, "not valid before"},
		{"garbage", []byte("garbage"), []byte("garbage"), "failed to find any PEM data"},
		{"empty", []byte{}, []byte{}, "empty"},
		{"server certificate", nil, nil, "not for client authentication"},
	} {
		switch c.name {
		case "expired":
			l := clients.ClientValid("svc", now.Add(-2*time.Hour), now.Add(-time.Hour))
			c.cert, c.key = l.CertPEM, l.KeyPEM
		case "not yet valid":
			l := clients.ClientValid("svc", now.Add(time.Hour), now.Add(2*time.Hour))
			c.cert, c.key = l.CertPEM, l.KeyPEM
		case "server certificate":
			l := clients.Server()
			c.cert, c.key = l.CertPEM, l.KeyPEM
		}
		write(t, keyFile, c.key)
		write(t, certFile, c.cert)
		// A read between the two writes may be refused first, for another
		// reason; the last refusal is the pair's. Then nothing more: with a
		// read every 5 ms, a refusal is reported once, not on every read.
		got := ev.settle(t)
		last := got[len(got)-1]
		if last.Kind != composite.CertificateRefused || !strings.Contains(last.Err.Error(), c.want) || len(got) > 2 {
			t.Fatalf("%s: events %v, want a refusal with %q", c.name, got, c.want)
		}
		presents(second)
	}
	os.Remove(certFile)
	if e := ev.next(t, composite.CertificateRefused); !os.IsNotExist(e.Err) {
		t.Fatalf("missing file refused with %v", e.Err)
	}
	presents(second)
	third := clients.Client("svc")
	write(t, keyFile, third.KeyPEM)
	write(t, certFile, third.CertPEM)
	if e := ev.next(t, composite.CertificateApplied); e.Serial != serial(third) {
		t.Fatalf("applied %+v", e)
	}
	presents(third)
}

// TestRootsRotateWithOverlap moves a server from one CA to another while a
// client follows its roots file: the client trusts a bundle of both during
// the switch, then the new CA alone, after which the old CA's certificate is
// refused. The server's certificate is rotated through the kit.
func TestRootsRotateWithOverlap(t *testing.T) {
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{})
	oldCA, newCA := srv.CA, grpccredstest.NewCA(t, "new server CA")
	rootsFile := filepath.Join(t.TempDir(), "ca.crt")
	write(t, rootsFile, oldCA.PEM)
	ev := make(events, 16)
	tc, err := composite.TLSFromFile(rootsFile, composite.WithReload(5*time.Millisecond), composite.WithTLSObserver(ev.observe))
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	ev.next(t, composite.RootsApplied)
	if err := newConnection(t, srv.Addr, tc); err != nil {
		t.Fatal(err)
	}

	write(t, rootsFile, grpccredstest.Bundle(oldCA, newCA))
	ev.next(t, composite.RootsApplied)
	if err := newConnection(t, srv.Addr, tc); err != nil {
		t.Fatalf("old server certificate, overlap bundle: %v", err)
	}
	next := newCA.Server()
	if err := srv.TLS.UpdateCertificate(next.CertPEM, next.KeyPEM); err != nil {
		t.Fatal(err)
	}
	if err := newConnection(t, srv.Addr, tc); err != nil {
		t.Fatalf("new server certificate, overlap bundle: %v", err)
	}
	write(t, rootsFile, newCA.PEM)
	ev.next(t, composite.RootsApplied)
	if err := newConnection(t, srv.Addr, tc); err != nil {
		t.Fatalf("new server certificate, new roots: %v", err)
	}
	back := oldCA.Server()
	if err := srv.TLS.UpdateCertificate(back.CertPEM, back.KeyPEM); err != nil {
		t.Fatal(err)
	}
	if err := newConnection(t, srv.Addr, tc); err == nil || !strings.Contains(err.Error(), "unknown authority") {
		t.Fatalf("a certificate from the CA no longer trusted: %v", err)
	}
	write(t, rootsFile, []byte("garbage"))
	ev.next(t, composite.RootsRefused)
	write(t, rootsFile, []byte{})
	ev.next(t, composite.RootsRefused)
	if err := srv.TLS.UpdateCertificate(next.CertPEM, next.KeyPEM); err != nil {
		t.Fatal(err)
	}
	if err := newConnection(t, srv.Addr, tc); err != nil {
		t.Fatalf("refused roots file replaced the good roots: %v", err)
	}
}

// TestUpdatesAreCheckedAndAtomic: UpdateCertificate and UpdateRoots refuse
// bad input with an error and an event, keep the material in use, and apply
// good input to the next handshake. Verification stays in force: the server
// name is checked, and a client certificate from an untrusted CA is refused
// by the server.
func TestUpdatesAreCheckedAndAtomic(t *testing.T) {
	clients, others := grpccredstest.NewCA(t, "clients"), grpccredstest.NewCA(t, "others")
	var seen peers
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{ClientCAs: clients, Options: []grpc.ServerOption{seen.option()}})
	first := clients.Client("svc")
	var mu sync.Mutex
	var all []composite.TLSEvent
	tc, err := composite.TLS(srv.CA.PEM, composite.WithClientCertificate(first.CertPEM, first.KeyPEM),
		composite.WithTLSObserver(func(e composite.TLSEvent) { mu.Lock(); all = append(all, e); mu.Unlock() }))
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	expired := clients.ClientValid("svc", time.Now().Add(-2*time.Hour), time.Now().Add(-time.Hour))
	second := clients.Client("svc")
	for name, pair := range map[string][2][]byte{
		"mismatched":      {second.CertPEM, first.KeyPEM},
		"expired":         {expired.CertPEM, expired.KeyPEM},
		"garbage":         {[]byte("x"), []byte("y")},
		"empty":           {nil, nil},
		"truncated chain": {append(append([]byte{}, second.CertPEM...), clients.PEM[:len(clients.PEM)/2]...), second.KeyPEM},
	} {
		if err := tc.UpdateCertificate(pair[0], pair[1]); err == nil {
			t.Errorf("%s certificate accepted", name)
		}
	}
	for name, roots := range map[string][]byte{"garbage": []byte("x"), "empty": nil, "key": first.KeyPEM} {
		if err := tc.UpdateRoots(roots); err == nil {
			t.Errorf("%s roots accepted", name)
		}
	}
	if err := newConnection(t, srv.Addr, tc); err != nil || seen.last() != serial(first) {
		t.Fatalf("after refused updates: %v, server saw %s", err, seen.last())
	}
	if err := tc.UpdateCertificate(second.CertPEM, second.KeyPEM); err != nil {
		t.Fatal(err)
	}
	if err := newConnection(t, srv.Addr, tc); err != nil || seen.last() != serial(second) {
		t.Fatalf("after the update: %v, server saw %s, want %s", err, seen.last(), serial(second))
	}
	stranger := others.Client("svc")
	if err := tc.UpdateCertificate(stranger.CertPEM, stranger.KeyPEM); err != nil {
		t.Fatal(err)
	}
	if err := newConnection(t, srv.Addr, tc); err == nil {
		t.Fatal("the server accepted a client certificate from a CA it does not trust")
	}
	if err := srv.TLS.UpdateRoots(grpccredstest.Bundle(clients, others)); err != nil {
		t.Fatal(err)
	}
	if err := newConnection(t, srv.Addr, tc); err != nil || seen.last() != serial(stranger) {
		t.Fatalf("after the server's client CAs moved: %v", err)
	}
	named, err := composite.TLS(srv.CA.PEM, composite.WithServerName("not-the-server.example"))
	if err != nil {
		t.Fatal(err)
	}
	if err := newConnection(t, srv.Addr, named); err == nil || !strings.Contains(err.Error(), "not-the-server.example") {
		t.Fatalf("wrong server name: %v", err)
	}

	mu.Lock()
	defer mu.Unlock()
	text := fmt.Sprintf("%v %+v %#v", all, all, all)
	for _, secret := range []string{string(first.KeyPEM[40:80]), string(first.KeyPEM[100:140]), string(second.KeyPEM[40:80])} {
		if strings.Contains(text, secret) {
			t.Fatalf("events carry key material: %q", secret)
		}
	}
	var refused int
	for _, e := range all {
		if e.Kind == composite.CertificateRefused || e.Kind == composite.RootsRefused {
			refused++
		}
	}
	if refused != 8 {
		t.Fatalf("%d refusal events, want 8", refused)
	}
}

// TestServerCertificateFilesRotate: ServerTLSFromFiles follows its files,
// and a client that trusts the CA sees each new certificate.
func TestServerCertificateFilesRotate(t *testing.T) {
	ca := grpccredstest.NewCA(t, "server CA")
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	first := ca.Server()
	write(t, certFile, first.CertPEM)
	write(t, keyFile, first.KeyPEM)
	ev := make(events, 16)
	sc, err := composite.ServerTLSFromFiles(certFile, keyFile, composite.WithReload(5*time.Millisecond), composite.WithTLSObserver(ev.observe))
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	ev.next(t, composite.CertificateApplied)
	addr := serve(t, sc)
	got := make(chan string, 1)
	tc, err := composite.TLS(ca.PEM)
	if err != nil {
		t.Fatal(err)
	}
	check := func(want grpccredstest.Leaf) {
		t.Helper()
		conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: poolOf(t, ca.PEM), NextProtos: []string{"h2"}, ServerName: "localhost"})
		if err != nil {
			t.Fatal(err)
		}
		got <- conn.ConnectionState().PeerCertificates[0].SerialNumber.Text(16)
		conn.Close()
		if s := <-got; s != serial(want) {
			t.Fatalf("server presented %s, want %s", s, serial(want))
		}
		if err := newConnection(t, addr, tc); err != nil {
			t.Fatal(err)
		}
	}
	check(first)
	second := ca.Server()
	write(t, keyFile, second.KeyPEM)
	write(t, certFile, second.CertPEM)
	ev.until(t, serial(second)) // a read between the two writes is refused
	check(second)
	client := ca.Client("svc")
	if err := sc.UpdateCertificate(client.CertPEM, client.KeyPEM); err == nil || !strings.Contains(err.Error(), "server authentication") {
		t.Fatalf("a client certificate as the server's: %v", err)
	}
	if _, err := composite.ServerTLS(nil, nil); err == nil {
		t.Fatal("server credentials without a certificate")
	}
}

// TestProviders: material from a gRPC certificate provider, grpc-go's own
// file watcher (pemfile) and one written by hand, is checked like files and
// followed as it changes.
func TestProviders(t *testing.T) {
	clients := grpccredstest.NewCA(t, "clients")
	var seen peers
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{ClientCAs: clients, Options: []grpc.ServerOption{seen.option()}})
	dir := t.TempDir()
	certFile, keyFile, rootsFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key"), filepath.Join(dir, "ca.crt")
	first := clients.Client("svc")
	write(t, certFile, first.CertPEM)
	write(t, keyFile, first.KeyPEM)
	write(t, rootsFile, srv.CA.PEM)
	pf, err := pemfile.NewProvider(pemfile.Options{CertFile: certFile, KeyFile: keyFile, RootFile: rootsFile, RefreshDuration: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	ev := make(events, 16)
	tc, err := composite.TLS(nil, composite.WithProvider(pf), composite.WithReload(5*time.Millisecond), composite.WithTLSObserver(ev.observe))
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	ev.next(t, composite.CertificateApplied)
	ev.next(t, composite.RootsApplied)
	if err := newConnection(t, srv.Addr, tc); err != nil || seen.last() != serial(first) {
		t.Fatalf("pemfile: %v, server saw %s", err, seen.last())
	}
	second := clients.Client("svc")
	write(t, keyFile, second.KeyPEM)
	write(t, certFile, second.CertPEM)
	ev.until(t, serial(second))
	if err := newConnection(t, srv.Addr, tc); err != nil || seen.last() != serial(second) {
		t.Fatalf("pemfile after rotation: %v, server saw %s", err, seen.last())
	}
	if err := tc.UpdateCertificate(first.CertPEM, first.KeyPEM); err == nil {
		t.Fatal("UpdateCertificate over a provider")
	}
	if _, err := composite.TLS(srv.CA.PEM, composite.WithProvider(pf)); err == nil {
		t.Fatal("roots and a provider together")
	}

	expired := clients.ClientValid("svc", time.Now().Add(-2*time.Hour), time.Now().Add(-time.Hour))
	mine := &handProvider{km: material(t, second)}
	mine.km.Roots = poolOf(t, srv.CA.PEM)
	ev = make(events, 16)
	tc2, err := composite.TLS(nil, composite.WithProvider(mine), composite.WithReload(5*time.Millisecond), composite.WithTLSObserver(ev.observe))
	if err != nil {
		t.Fatal(err)
	}
	defer tc2.Close()
	ev.next(t, composite.CertificateApplied)
	ev.next(t, composite.RootsApplied)
	mine.set(&certprovider.KeyMaterial{Certs: material(t, expired).Certs, Roots: mine.km.Roots})
	if e := ev.next(t, composite.CertificateRefused); !strings.Contains(e.Err.Error(), "expired") {
		t.Fatalf("expired certificate from a provider: %v", e.Err)
	}
	if err := newConnection(t, srv.Addr, tc2); err != nil || seen.last() != serial(second) {
		t.Fatalf("after a refused provider certificate: %v, server saw %s", err, seen.last())
	}
}

type handProvider struct {
	mu sync.Mutex
	km *certprovider.KeyMaterial
}

func (p *handProvider) KeyMaterial(context.Context) (*certprovider.KeyMaterial, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.km, nil
}

func (p *handProvider) set(km *certprovider.KeyMaterial) { p.mu.Lock(); p.km = km; p.mu.Unlock() }
func (p *handProvider) Close()                           {}

func material(t *testing.T, l grpccredstest.Leaf) *certprovider.KeyMaterial {
	t.Helper()
	pair, err := tls.X509KeyPair(l.CertPEM, l.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return &certprovider.KeyMaterial{Certs: []tls.Certificate{pair}}
}

// serve starts a gRPC server with the health service over sc on 127.0.0.1.
func serve(t *testing.T, sc credentials.TransportCredentials) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer(grpc.Creds(sc))
	healthpb.RegisterHealthServer(s, health.NewServer())
	go s.Serve(lis)
	t.Cleanup(s.Stop)
	return lis.Addr().String()
}

func poolOf(t *testing.T, pemBytes []byte) *x509.CertPool {
	t.Helper()
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(pemBytes) {
		t.Fatal("no certificate")
	}
	return p
}

// TestServerFilesRefuseBadRotations: a server following its certificate
// files refuses a torn write, an expired or not yet valid certificate,
// garbage and an empty file, and keeps presenting the last good one; its
// client CA file moves to a new CA through an overlap bundle, after which a
// client of the old CA is refused.
func TestServerFilesRefuseBadRotations(t *testing.T) {
	ca, oldClients, newClients := grpccredstest.NewCA(t, "server CA"), grpccredstest.NewCA(t, "old clients"), grpccredstest.NewCA(t, "new clients")
	dir := t.TempDir()
	certFile, keyFile, caFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key"), filepath.Join(dir, "clients.crt")
	good := ca.Server()
	write(t, certFile, good.CertPEM)
	write(t, keyFile, good.KeyPEM)
	write(t, caFile, oldClients.PEM)
	ev := make(events, 16)
	sc, err := composite.ServerTLSFromFiles(certFile, keyFile, composite.RequireClientCertificatesFromFile(caFile),
		composite.WithReload(5*time.Millisecond), composite.WithTLSObserver(ev.observe))
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	ev.next(t, composite.CertificateApplied)
	ev.next(t, composite.RootsApplied)
	addr := serve(t, sc)
	client := func(l grpccredstest.Leaf) *composite.TLSCredentials {
		tc, err := composite.TLS(ca.PEM, composite.WithClientCertificate(l.CertPEM, l.KeyPEM))
		if err != nil {
			t.Fatal(err)
		}
		return tc
	}
	oldClient, newClient := client(oldClients.Client("a")), client(newClients.Client("b"))
	presents := func() {
		t.Helper()
		conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: poolOf(t, ca.PEM), NextProtos: []string{"h2"}, ServerName: "localhost",
			Certificates: []tls.Certificate{oldClients.Client("probe").TLS}})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if s := conn.ConnectionState().PeerCertificates[0].SerialNumber.Text(16); s != serial(good) {
			t.Fatalf("server presented %s, want the last good %s", s, serial(good))
		}
	}
	presents()
	now := time.Now()
	torn := ca.Server()
	expired := ca.ServerValid(now.Add(-2*time.Hour), now.Add(-time.Hour))
	early := ca.ServerValid(now.Add(time.Hour), now.Add(2*time.Hour))
	for _, c := range []struct {
		name      string
		cert, key []byte
		want      string
	}{
		{"torn", torn.CertPEM, good.KeyPEM, "does not match"},
		{"expired", expired.CertPEM, expired.KeyPEM, "expired at"},
		{"not yet valid", early.CertPEM, early.KeyPEM, "not valid before"},
		{"garbage", []byte("garbage"), []byte("garbage"), "in certificate input"},
		{"empty", []byte{}, []byte{}, "empty"},
	} {
		write(t, keyFile, c.key)
		write(t, certFile, c.cert)
		got := ev.settle(t)
		last := got[len(got)-1]
		if last.Kind != composite.CertificateRefused || !strings.Contains(last.Err.Error(), c.want) {
			t.Fatalf("%s: events %v, want a refusal with %q", c.name, got, c.want)
		}
		presents()
	}
	write(t, keyFile, good.KeyPEM)
	write(t, certFile, good.CertPEM)
	ev.quiet(t) // a read between the two writes may be refused
	presents()
	if err := newConnection(t, addr, oldClient); err != nil {
		t.Fatalf("old CA's client: %v", err)
	}
	if err := newConnection(t, addr, newClient); err == nil {
		t.Fatal("a client of a CA the server does not trust yet was accepted")
	}
	write(t, caFile, grpccredstest.Bundle(oldClients, newClients))
	ev.next(t, composite.RootsApplied)
	for name, c := range map[string]*composite.TLSCredentials{"old": oldClient, "new": newClient} {
		if err := newConnection(t, addr, c); err != nil {
			t.Fatalf("%s CA's client during the overlap: %v", name, err)
		}
	}
	write(t, caFile, newClients.PEM)
	ev.next(t, composite.RootsApplied)
	if err := newConnection(t, addr, newClient); err != nil {
		t.Fatalf("new CA's client: %v", err)
	}
	if err := newConnection(t, addr, oldClient); err == nil {
		t.Fatal("the old CA's client was still accepted after the move")
	}
}

package composite

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/credentials"
)

// TLSCredentials is gRPC transport credentials over TLS whose certificate
// and roots can be replaced while they are in use: by the Update methods, or
// by reading files or a provider again (see [WithReload]). Each handshake
// takes the material current when it starts, through one atomic load, and
// crypto/tls verifies the peer with it in full (chain, name, validity, key
// usage): nothing is read, parsed or verified by hand on the handshake path.
// Connections already open keep the handshake they made; gRPC makes new
// connections when it reconnects, or when a server ends old ones (for
// example with keepalive's MaxConnectionAge).
//
// Replacement material is checked before it is used (see [WithReload] for
// the rules), and refused material leaves the current material in place.
// Close stops the reloading; the credentials keep working with the material
// they have. A TLSCredentials is safe for concurrent use.
type TLSCredentials struct {
	r *rotator
}

// rotator holds the current material; clones share it.
type rotator struct {
	s   settings
	now func() time.Time
	cur atomic.Pointer[state]

	mu       sync.Mutex // serialises changes, and the observer's calls
	reloader *reloader  // nil when nothing is read again

	certSeen, rootsSeen, provSeen seen // guarded by mu
}

// state is one generation of material and the credentials built from it.
type state struct {
	creds credentials.TransportCredentials
	cert  *tls.Certificate
	roots *roots // nil: the system roots (a client) or no client certificates (a server)
	// expires is when cert stops being valid, in Unix nanoseconds (0: no
	// certificate), for noticing an expired certificate at handshake time.
	expires int64
}

func build(s settings) (*TLSCredentials, error) {
	if s.provider != nil && (s.cert != nil || s.roots != nil) {
		return nil, errors.New("composite: WithProvider supplies the certificate and roots; it cannot be combined with others")
	}
	r := &rotator{s: s, now: time.Now}
	first, events, err := r.initial()
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.install(first)
	for _, e := range events {
		r.emit(e)
	}
	r.mu.Unlock()
	if s.reads() && s.every > 0 {
		r.reloader = startReloader(r)
	}
	return &TLSCredentials{r: r}, nil
}

// initial reads the material the options name; any error fails construction.
func (r *rotator) initial() (*state, []TLSEvent, error) {
	st := &state{}
	var events []TLSEvent
	side := "client"
	if r.s.server {
		side = "server"
	}
	if in := r.s.cert; in != nil {
		cert, origin, err := r.readPair(in)
		if err != nil {
			return nil, nil, fmt.Errorf("composite: %s certificate: %w", side, err)
		}
		st.cert = cert
		events = append(events, certEvent(CertificateApplied, origin, cert, nil))
	}
	if in := r.s.roots; in != nil {
		rs, origin, err := r.readRoots(in)
		if err != nil {
			return nil, nil, fmt.Errorf("composite: %s: %w", rootsName(r.s.server), err)
		}
		st.roots = rs
		events = append(events, TLSEvent{Kind: RootsApplied, Origin: origin, NotAfter: rs.notAfter})
	}
	if p := r.s.provider; p != nil {
		ctx, cancel := context.WithTimeout(context.Background(), providerTimeout)
		defer cancel()
		km, err := p.KeyMaterial(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("composite: provider: %w", err)
		}
		cert, rs, err := r.checkProvided(km)
		if err != nil {
			return nil, nil, fmt.Errorf("composite: provider: %w", err)
		}
		st.cert, st.roots = cert, rs
		events = append(events, providedEvents(cert, rs, nil)...)
	}
	if r.s.server && st.cert == nil {
		return nil, nil, errors.New("composite: server credentials need a certificate and key")
	}
	return st, events, nil
}

func rootsName(server bool) string {
	if server {
		return "client certificate authorities"
	}
	return "root certificates"
}

// install builds credentials from st and makes it current. r.mu is held.
func (r *rotator) install(st *state) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if st.cert != nil {
		cfg.Certificates = []tls.Certificate{*st.cert}
		st.expires = st.cert.Leaf.NotAfter.UnixNano()
	}
	if r.s.server {
		if st.roots != nil {
			cfg.ClientCAs, cfg.ClientAuth = st.roots.pool, tls.RequireAndVerifyClientCert
		}
	} else {
		cfg.ServerName = r.s.serverName
		if st.roots != nil {
			cfg.RootCAs = st.roots.pool
		}
	}
	st.creds = credentials.NewTLS(cfg)
	r.cur.Store(st)
}

// emit reports e to the observer. r.mu is held, so events arrive in order.
func (r *rotator) emit(e TLSEvent) {
	if r.s.observer != nil {
		r.s.observer(e)
	}
}

// setCert makes cert current, or reports why not. r.mu is held.
func (r *rotator) setCert(cert *tls.Certificate, origin string, err error) error {
	if err != nil {
		r.emit(TLSEvent{Kind: CertificateRefused, Origin: origin, Serial: serialOf(leafOf(cert)), Err: err})
		return err
	}
	next := *r.cur.Load()
	next.cert = cert
	r.install(&next)
	r.emit(certEvent(CertificateApplied, origin, cert, nil))
	return nil
}

// setRoots makes rs current, or reports why not. r.mu is held.
func (r *rotator) setRoots(rs *roots, origin string, err error) error {
	if err != nil {
		r.emit(TLSEvent{Kind: RootsRefused, Origin: origin, Err: err})
		return err
	}
	next := *r.cur.Load()
	next.roots = rs
	r.install(&next)
	r.emit(TLSEvent{Kind: RootsApplied, Origin: origin, NotAfter: rs.notAfter})
	return nil
}

func certEvent(kind TLSEventKind, origin string, cert *tls.Certificate, err error) TLSEvent {
	e := TLSEvent{Kind: kind, Origin: origin, Err: err}
	if leaf := leafOf(cert); leaf != nil {
		e.Serial, e.NotAfter = serialOf(leaf), leaf.NotAfter
	}
	return e
}

func leafOf(cert *tls.Certificate) *x509.Certificate {
	if cert == nil {
		return nil
	}
	return cert.Leaf
}

// UpdateCertificate replaces the certificate presented in new handshakes:
// the client certificate of client credentials, the server's own of server
// credentials. certPEM may hold a chain; keyPEM is the matching key. They are
// checked first (see [WithReload]); on error the current certificate stays.
// A later change of the certificate files, if any, replaces it in turn.
func (c *TLSCredentials) UpdateCertificate(certPEM, keyPEM []byte) error {
	r := c.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.s.provider != nil {
		return errors.New("composite: UpdateCertificate: the certificate comes from a provider")
	}
	cert, err := parsePair(certPEM, keyPEM, r.s.usage(), r.now())
	if err := r.setCert(cert, "update", err); err != nil {
		return fmt.Errorf("composite: UpdateCertificate: %w", err)
	}
	return nil
}

// UpdateRoots replaces the certificate authorities that new handshakes
// verify the peer against: the server's roots for client credentials, the
// client certificate authorities for server credentials (which then require
// client certificates). To rotate a root without failing handshakes, give a
// bundle holding the old and the new root until every peer has moved, then
// the new one alone. rootPEM is checked as at construction; on error the
// current roots stay. A later change of the roots file, if any, replaces
// them in turn.
func (c *TLSCredentials) UpdateRoots(rootPEM []byte) error {
	r := c.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.s.provider != nil {
		return errors.New("composite: UpdateRoots: the roots come from a provider")
	}
	rs, err := parseRoots(rootPEM, r.now())
	if err := r.setRoots(rs, "update", err); err != nil {
		return fmt.Errorf("composite: UpdateRoots: %w", err)
	}
	return nil
}

// Close stops reading files or the provider again. Handshakes keep working
// with the current material, and the Update methods still apply. It is safe
// to call more than once.
func (c *TLSCredentials) Close() error {
	if rl := c.r.reloader; rl != nil {
		rl.stop()
	}
	return nil
}

// ClientHandshake performs the client side of a TLS handshake with the
// current material. It implements credentials.TransportCredentials.
func (c *TLSCredentials) ClientHandshake(ctx context.Context, authority string, conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	return c.r.current().creds.ClientHandshake(ctx, authority, conn)
}

// ServerHandshake performs the server side of a TLS handshake with the
// current material. It implements credentials.TransportCredentials.
func (c *TLSCredentials) ServerHandshake(conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	return c.r.current().creds.ServerHandshake(conn)
}

// Info describes the protocol. It implements credentials.TransportCredentials.
func (c *TLSCredentials) Info() credentials.ProtocolInfo { return c.r.current().creds.Info() }

// Clone returns credentials that share this one's material: an update to
// either is an update to both. It implements credentials.TransportCredentials.
func (c *TLSCredentials) Clone() credentials.TransportCredentials { return &TLSCredentials{r: c.r} }

// OverrideServerName is not supported: it would change the name for every
// holder of the material. It implements credentials.TransportCredentials.
//
// Deprecated: as in gRPC; use [WithServerName] or grpc.WithAuthority.
func (c *TLSCredentials) OverrideServerName(string) error {
	return errors.New("composite: OverrideServerName is not supported; use WithServerName or grpc.WithAuthority")
}

// current returns the material in use, and asks for an early reload when its
// certificate has expired (the files may already hold its successor).
func (r *rotator) current() *state {
	st := r.cur.Load()
	if st.expires != 0 && r.reloader != nil && r.now().UnixNano() > st.expires {
		r.reloader.nudge()
	}
	return st
}

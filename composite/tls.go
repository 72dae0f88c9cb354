package composite

import (
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc/credentials/tls/certprovider"
)

// The option types follow the constructors that accept them, so an option for
// the other side does not compile:
//
//	TLS, TLSFromFile              TLSOption (and ReloadOption)
//	ServerTLS, ServerTLSFromFiles ServerTLSOption (and ReloadOption)
type (
	// TLSOption configures client credentials: [TLS] and [TLSFromFile].
	TLSOption interface{ applyClient(*settings) error }

	// ServerTLSOption configures server credentials: [ServerTLS] and
	// [ServerTLSFromFiles].
	ServerTLSOption interface{ applyServer(*settings) error }

	// ReloadOption configures how material changes, on either side.
	ReloadOption interface {
		TLSOption
		ServerTLSOption
	}
)

type (
	clientOpt func(*settings) error
	serverOpt func(*settings) error
	bothOpt   func(*settings) error
)

func (f clientOpt) applyClient(s *settings) error { return f(s) }
func (f serverOpt) applyServer(s *settings) error { return f(s) }
func (f bothOpt) applyClient(s *settings) error   { return f(s) }
func (f bothOpt) applyServer(s *settings) error   { return f(s) }

// defaultReload is how often files and providers are read again.
const defaultReload = time.Minute

// settings is what the options chose; it does not change after construction.
type settings struct {
	server     bool
	serverName string
	cert       *pairInput
	roots      *rootsInput
	every      time.Duration
	observer   func(TLSEvent)
	provider   certprovider.Provider
}

// pairInput is a certificate and key, given as PEM or as files.
type pairInput struct {
	certPEM, keyPEM   []byte
	certFile, keyFile string
}

// rootsInput is a root bundle, given as PEM or as a file.
type rootsInput struct {
	pem  []byte
	file string
}

func (s *settings) usage() x509.ExtKeyUsage {
	if s.server {
		return x509.ExtKeyUsageServerAuth
	}
	return x509.ExtKeyUsageClientAuth
}

// reads reports whether anything is read again on the reload schedule.
func (s *settings) reads() bool {
	return s.provider != nil || (s.cert != nil && s.cert.certFile != "") || (s.roots != nil && s.roots.file != "")
}

// WithServerName overrides the name checked against the server's certificate
// (by default the host of the dial target).
func WithServerName(name string) TLSOption {
	return clientOpt(func(s *settings) error { s.serverName = name; return nil })
}

// WithClientCertificate presents a client certificate (mTLS). certPEM may hold
// a chain; keyPEM is the matching private key. Replace it later with
// [TLSCredentials.UpdateCertificate].
func WithClientCertificate(certPEM, keyPEM []byte) TLSOption {
	return clientOpt(func(s *settings) error {
		return s.setCert(&pairInput{certPEM: certPEM, keyPEM: keyPEM}, "WithClientCertificate")
	})
}

// WithClientCertificateFiles presents the client certificate in certFile, with
// the key in keyFile, and reads both again on the reload schedule (see
// [WithReload]), so a certificate renewed on disk is presented on new
// connections without a restart.
func WithClientCertificateFiles(certFile, keyFile string) TLSOption {
	return clientOpt(func(s *settings) error {
		return s.setCert(&pairInput{certFile: certFile, keyFile: keyFile}, "WithClientCertificateFiles")
	})
}

// WithRootsFile trusts the certificates in file, read again on the reload
// schedule (see [WithReload]): the form of [TLS] for roots that rotate. Give
// TLS nil roots with it.
func WithRootsFile(file string) TLSOption {
	return clientOpt(func(s *settings) error { return s.setRoots(&rootsInput{file: file}, "WithRootsFile") })
}

// RequireClientCertificates makes a server require a client certificate that
// chains to one of the certificates in caPEM (mTLS). Replace them later with
// [TLSCredentials.UpdateRoots].
func RequireClientCertificates(caPEM []byte) ServerTLSOption {
	return serverOpt(func(s *settings) error {
		return s.setRoots(&rootsInput{pem: caPEM}, "RequireClientCertificates")
	})
}

// RequireClientCertificatesFromFile is [RequireClientCertificates] with the
// certificate authorities read from file, and read again on the reload
// schedule (see [WithReload]).
func RequireClientCertificatesFromFile(file string) ServerTLSOption {
	return serverOpt(func(s *settings) error {
		return s.setRoots(&rootsInput{file: file}, "RequireClientCertificatesFromFile")
	})
}

// WithReload sets how often files (and a provider, see [WithProvider]) are
// read again: every minute by default. A change that parses and passes the
// checks is used by the handshakes that start after it; connections already
// open keep the material they were made with. A change that does not is
// refused, reported to the observer (see [WithTLSObserver]), and the material
// in use stays; a certificate and its key are read together, so a rotation
// written one file at a time is used once both files are in place. Zero
// reads files once, at construction. The reloading stops at
// [TLSCredentials.Close].
func WithReload(every time.Duration) ReloadOption {
	return bothOpt(func(s *settings) error {
		if every < 0 {
			return fmt.Errorf("composite: WithReload(%v): must not be negative", every)
		}
		s.every = every
		return nil
	})
}

// WithTLSObserver calls fn with every change of material, applied or
// refused, including the material read at construction. It is called on the
// goroutine that made the change, one change at a time, and must return
// quickly, without calling the credentials' own methods (they wait for it).
// Events carry no key material.
func WithTLSObserver(fn func(TLSEvent)) ReloadOption {
	return bothOpt(func(s *settings) error { s.observer = fn; return nil })
}

// WithProvider takes the certificate and the roots from p, a gRPC certificate
// provider (for example one written for SPIFFE or a secrets manager), asked
// at construction and on the reload schedule (see [WithReload]). A provider
// that returns no certificate leaves none presented; one that returns no
// roots leaves the system roots (on a server: no client certificate
// required). What it returns passes the same checks as files. It cannot be
// combined with other certificate or root settings. The caller closes p,
// after the credentials.
func WithProvider(p certprovider.Provider) ReloadOption {
	return bothOpt(func(s *settings) error {
		if p == nil {
			return errors.New("composite: WithProvider(nil)")
		}
		s.provider = p
		return nil
	})
}

func (s *settings) setCert(in *pairInput, name string) error {
	if s.cert != nil {
		return fmt.Errorf("composite: %s: a certificate is already set", name)
	}
	s.cert = in
	return nil
}

func (s *settings) setRoots(in *rootsInput, name string) error {
	if s.roots != nil {
		return fmt.Errorf("composite: %s: roots are already set", name)
	}
	s.roots = in
	return nil
}

// TLS returns client transport credentials that trust the certificates in
// rootPEM, or the system roots if rootPEM is nil. TLS 1.2 is the minimum.
// rootPEM that holds no certificate, or anything but certificates, is an
// error here rather than a handshake failure later. The certificate and roots
// can be replaced while the credentials are in use (see [TLSCredentials]).
func TLS(rootPEM []byte, opts ...TLSOption) (*TLSCredentials, error) {
	s := settings{every: defaultReload}
	if rootPEM != nil {
		s.roots = &rootsInput{pem: rootPEM}
	}
	for _, o := range opts {
		if err := o.applyClient(&s); err != nil {
			return nil, err
		}
	}
	return build(s)
}

// TLSFromFile is [TLS] with the root certificates read from caFile, and read
// again on the reload schedule (see [WithReload]).
func TLSFromFile(caFile string, opts ...TLSOption) (*TLSCredentials, error) {
	return TLS(nil, append([]TLSOption{WithRootsFile(caFile)}, opts...)...)
}

// ServerTLS returns server transport credentials presenting certPEM (a
// certificate, optionally with its chain) and keyPEM. TLS 1.2 is the
// minimum. Clients need no certificate unless [RequireClientCertificates] is
// given. Both can be replaced while the server runs (see [TLSCredentials]).
// With [WithProvider], certPEM and keyPEM are nil.
func ServerTLS(certPEM, keyPEM []byte, opts ...ServerTLSOption) (*TLSCredentials, error) {
	s := settings{server: true, every: defaultReload}
	if certPEM != nil || keyPEM != nil {
		s.cert = &pairInput{certPEM: certPEM, keyPEM: keyPEM}
	}
	return server(s, opts)
}

// ServerTLSFromFiles is [ServerTLS] with the certificate and key read from
// files, and read again on the reload schedule (see [WithReload]).
func ServerTLSFromFiles(certFile, keyFile string, opts ...ServerTLSOption) (*TLSCredentials, error) {
	s := settings{server: true, every: defaultReload, cert: &pairInput{certFile: certFile, keyFile: keyFile}}
	return server(s, opts)
}

func server(s settings, opts []ServerTLSOption) (*TLSCredentials, error) {
	for _, o := range opts {
		if err := o.applyServer(&s); err != nil {
			return nil, err
		}
	}
	if s.cert == nil && s.provider == nil {
		return nil, errors.New("composite: server credentials need a certificate and key")
	}
	return build(s)
}

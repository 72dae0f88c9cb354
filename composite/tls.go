package composite

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"google.golang.org/grpc/credentials"
)

// TLSOption configures [TLS] and [TLSFromFile].
type TLSOption func(*tlsConfig) error

type tlsConfig struct {
	serverName string
	clientCert *tls.Certificate
}

// WithServerName overrides the name checked against the server's certificate
// (by default the host of the dial target).
func WithServerName(name string) TLSOption {
	return func(c *tlsConfig) error { c.serverName = name; return nil }
}

// WithClientCertificate presents a client certificate (mTLS). certPEM may hold
// a chain; keyPEM is the matching private key.
func WithClientCertificate(certPEM, keyPEM []byte) TLSOption {
	return func(c *tlsConfig) error {
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return fmt.Errorf("composite: client certificate: %w", err)
		}
		c.clientCert = &cert
		return nil
	}
}

// WithClientCertificateFiles is [WithClientCertificate] from files.
func WithClientCertificateFiles(certFile, keyFile string) TLSOption {
	return func(c *tlsConfig) error {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return fmt.Errorf("composite: client certificate: %w", err)
		}
		c.clientCert = &cert
		return nil
	}
}

// TLS returns transport credentials that trust the certificates in rootPEM, or
// the system roots if rootPEM is nil. TLS 1.2 is the minimum. rootPEM that
// holds no certificate, or anything but certificates, is an error here rather
// than a handshake failure later.
func TLS(rootPEM []byte, opts ...TLSOption) (credentials.TransportCredentials, error) {
	var c tlsConfig
	for _, o := range opts {
		if err := o(&c); err != nil {
			return nil, err
		}
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.serverName}
	if c.clientCert != nil {
		cfg.Certificates = []tls.Certificate{*c.clientCert}
	}
	if rootPEM != nil {
		pool, err := certPool(rootPEM)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	return credentials.NewTLS(cfg), nil
}

// TLSFromFile is [TLS] with the root certificates read from caFile.
func TLSFromFile(caFile string, opts ...TLSOption) (credentials.TransportCredentials, error) {
	b, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("composite: root certificates: %w", err)
	}
	return TLS(b, opts...)
}

// certPool parses PEM that must hold one or more certificates and nothing
// else.
func certPool(b []byte) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	n := 0
	for rest := b; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			if len(trimSpace(rest)) > 0 {
				return nil, errors.New("composite: root certificates: trailing data that is not PEM")
			}
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("composite: root certificates: unexpected PEM block %q (want CERTIFICATE)", block.Type)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("composite: root certificates: certificate %d: %w", n+1, err)
		}
		pool.AddCert(cert)
		n++
	}
	if n == 0 {
		return nil, errors.New("composite: root certificates: no PEM certificate found")
	}
	return pool, nil
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\n' || b[0] == '\r' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}

package composite

import (
	"bytes"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"time"
)

// The rules every certificate and every set of roots meets before it is used,
// whether it comes from the constructor, a file re-read, an Update method or a
// provider: a refused one leaves the material in use as it was.
//
//   - A certificate is a leaf (and optionally its chain) with the private key
//     that matches it; the leaf is valid now (not expired, not yet valid); if
//     it names extended key usages, they include the one its side needs
//     (client authentication for a client, server authentication for a
//     server).
//   - Roots are PEM holding one or more certificates and nothing else, at
//     least one of them valid now.

// parsePair parses and checks a certificate and its key (see the rules above).
func parsePair(certPEM, keyPEM []byte, usage x509.ExtKeyUsage, now time.Time) (*tls.Certificate, error) {
	if len(bytes.TrimSpace(certPEM)) == 0 || len(bytes.TrimSpace(keyPEM)) == 0 {
		return nil, errors.New("certificate or key is empty")
	}
	if err := wholePEM(certPEM); err != nil {
		return nil, err
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		// crypto/tls's messages name what is wrong, never the key's bytes.
		return nil, err
	}
	if err := checkLeaf(&cert, usage, now); err != nil {
		return &cert, err // for the refusal's serial number
	}
	return &cert, nil
}

// checkLeaf checks a certificate that came as a tls.Certificate (from a pair
// or a provider).
func checkLeaf(cert *tls.Certificate, usage x509.ExtKeyUsage, now time.Time) error {
	if len(cert.Certificate) == 0 || cert.PrivateKey == nil {
		return errors.New("certificate without a leaf or without a private key")
	}
	// The certificate sent is Certificate[0]: check that, not a Leaf field
	// that might not match it.
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return fmt.Errorf("leaf certificate: %w", err)
	}
	cert.Leaf = leaf
	if err := validNow(leaf, now); err != nil {
		return err
	}
	if len(leaf.ExtKeyUsage) > 0 && !slices.Contains(leaf.ExtKeyUsage, usage) && !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageAny) {
		return fmt.Errorf("certificate %s is not for %s", serialOf(leaf), usageName(usage))
	}
	signer, ok := cert.PrivateKey.(crypto.Signer)
	pub, ok2 := leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !ok2 || !pub.Equal(signer.Public()) {
		return errors.New("private key does not match the certificate")
	}
	return nil
}

// wholePEM refuses a certificate file that is not only whole CERTIFICATE
// blocks: crypto/tls would take the leaf of a chain cut off mid-write and
// drop the rest.
func wholePEM(b []byte) error {
	n := 0
	for rest := b; ; n++ {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			if len(bytes.TrimSpace(rest)) > 0 && n > 0 {
				return errors.New("certificate file: trailing data that is not a whole PEM block (written halfway?)")
			}
			return nil
		}
		if block.Type != "CERTIFICATE" {
			return fmt.Errorf("certificate file: unexpected PEM block %q", block.Type)
		}
	}
}

func validNow(c *x509.Certificate, now time.Time) error {
	switch {
	case now.After(c.NotAfter):
		return fmt.Errorf("certificate %s expired at %s", serialOf(c), c.NotAfter.UTC().Format(time.RFC3339))
	case now.Before(c.NotBefore):
		return fmt.Errorf("certificate %s is not valid before %s", serialOf(c), c.NotBefore.UTC().Format(time.RFC3339))
	}
	return nil
}

func usageName(u x509.ExtKeyUsage) string {
	if u == x509.ExtKeyUsageServerAuth {
		return "server authentication"
	}
	return "client authentication"
}

// serialOf names a certificate in events and errors by its serial number.
func serialOf(c *x509.Certificate) string {
	if c == nil || c.SerialNumber == nil {
		return ""
	}
	return c.SerialNumber.Text(16)
}

// roots is a parsed root bundle.
type roots struct {
	pool *x509.CertPool
	// notAfter is the latest end of validity among the bundle's certificates.
	notAfter time.Time
}

// parseRoots parses PEM that must hold one or more certificates and nothing
// else, at least one of them valid at now (the zero time skips that check).
func parseRoots(b []byte, now time.Time) (*roots, error) {
	r := &roots{pool: x509.NewCertPool()}
	n, valid := 0, false
	for rest := b; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			if len(bytes.TrimSpace(rest)) > 0 {
				return nil, errors.New("trailing data that is not PEM")
			}
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("unexpected PEM block %q (want CERTIFICATE)", block.Type)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %w", n+1, err)
		}
		r.pool.AddCert(cert)
		r.notAfter = later(r.notAfter, cert.NotAfter)
		valid = valid || now.IsZero() || validNow(cert, now) == nil
		n++
	}
	switch {
	case n == 0:
		return nil, errors.New("no PEM certificate found")
	case !valid:
		return nil, fmt.Errorf("none of the %d certificates is valid now", n)
	}
	return r, nil
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

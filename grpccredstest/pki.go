package grpccredstest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"testing"
	"time"
)

// CA is a throwaway certificate authority that lives for one test. Its
// leaves carry SANs for 127.0.0.1, ::1 and localhost, since Go refuses
// CN-only certificates.
type CA struct {
	// Certificate is the CA certificate, for clients' root pools.
	Certificate *x509.Certificate
	// PEM is the CA certificate, PEM-encoded.
	PEM []byte

	t   testing.TB
	key *ecdsa.PrivateKey
}

// NewCA creates a CA whose certificate has the common name name.
func NewCA(t testing.TB, name string) *CA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &CA{Certificate: cert, PEM: pemBlock("CERTIFICATE", der), t: t, key: key}
}

// Leaf is a certificate and key signed by a CA.
type Leaf struct {
	TLS     tls.Certificate
	CertPEM []byte
	KeyPEM  []byte
}

// Server issues a server certificate for 127.0.0.1, ::1 and localhost.
func (ca *CA) Server() Leaf { return ca.issue("localhost", x509.ExtKeyUsageServerAuth) }

// Client issues a client certificate for mTLS with the given common name.
func (ca *CA) Client(name string) Leaf { return ca.issue(name, x509.ExtKeyUsageClientAuth) }

// ServerValid is [CA.Server] valid from notBefore to notAfter.
func (ca *CA) ServerValid(notBefore, notAfter time.Time) Leaf {
	return ca.issueValid("localhost", x509.ExtKeyUsageServerAuth, notBefore, notAfter)
}

// ClientValid is [CA.Client] valid from notBefore to notAfter: an expired
// certificate, or one not valid yet, for testing what refuses them.
func (ca *CA) ClientValid(name string, notBefore, notAfter time.Time) Leaf {
	return ca.issueValid(name, x509.ExtKeyUsageClientAuth, notBefore, notAfter)
}

// Bundle concatenates the CAs' certificates into one PEM bundle, for moving
// peers from one CA to another: trust Bundle(old, new) while both issue
// certificates in use, then the new CA alone.
func Bundle(cas ...*CA) []byte {
	var b []byte
	for _, ca := range cas {
		b = append(b, ca.PEM...)
	}
	return b
}

// pool returns a pool holding only this CA.
func (ca *CA) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Certificate)
	return p
}

func (ca *CA) issue(name string, usage x509.ExtKeyUsage) Leaf {
	return ca.issueValid(name, usage, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
}

func (ca *CA) issueValid(name string, usage x509.ExtKeyUsage, notBefore, notAfter time.Time) Leaf {
	t := ca.t
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(t),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Certificate, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM := pemBlock("CERTIFICATE", der), pemBlock("PRIVATE KEY", keyDER)
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return Leaf{TLS: pair, CertPEM: certPEM, KeyPEM: keyPEM}
}

func serial(t testing.TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

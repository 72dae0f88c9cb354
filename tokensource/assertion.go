package tokensource

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// ClientAssertion returns a JWT with which a client authenticates itself at
// the token endpoint tokenURL, instead of a client secret (RFC 7523 §2.2,
// OpenID Connect's private_key_jwt). It is called for every token request.
// A function of your own is one, for example to pass on an assertion that a
// platform issues; [SignedAssertion] signs one with a key of yours.
type ClientAssertion func(ctx context.Context, tokenURL string) (string, error)

// AssertionLifetime is how long a signed assertion is valid: exp is this
// long after iat. A new assertion is signed for every request.
const AssertionLifetime = 5 * time.Minute

// assertionSkew backdates an assertion's nbf, so that a server whose clock is
// a little behind the client's, and allows no leeway, still accepts it.
const assertionSkew = 30 * time.Second

// AssertionOption configures [SignedAssertion].
type AssertionOption interface{ applyAssertion(*signer) }

type assertionOption func(*signer)

func (f assertionOption) applyAssertion(s *signer) { f(s) }

// WithKeyID puts kid in the assertion's header, for servers that find the
// client's key by it.
func WithKeyID(kid string) AssertionOption {
	return assertionOption(func(s *signer) { s.kid = kid })
}

// WithCertificate puts the SHA-256 thumbprint of cert, which must hold the
// signing key's public half, in the header as x5t#S256, for servers that find
// the client's key by its certificate.
func WithCertificate(cert *x509.Certificate) AssertionOption {
	return assertionOption(func(s *signer) { s.cert = cert })
}

// WithPSS signs with RSASSA-PSS (PS256) rather than PKCS #1 v1.5 (RS256).
// Only for RSA keys.
func WithPSS() AssertionOption {
	return assertionOption(func(s *signer) { s.pss = true })
}

// WithAssertionAudience sets the assertion's aud, by default the token
// endpoint's URL, for servers that want another value (some want their
// issuer).
func WithAssertionAudience(aud string) AssertionOption {
	return assertionOption(func(s *signer) { s.aud = aud })
}

// SignedAssertion returns a ClientAssertion that signs, for every request, a
// JWT with iss and sub set to clientID, aud to the token endpoint (see
// [WithAssertionAudience]), a random jti, iat now, nbf 30 seconds earlier
// (for a server whose clock is behind) and exp [AssertionLifetime] after
// iat.
//
// key may be an *rsa.PrivateKey (RS256, or PS256 with [WithPSS]) of 2048 bits
// or more, an *ecdsa.PrivateKey on P-256 (ES256), or any crypto.Signer with
// such a public key, such as a key held in an HSM or a cloud KMS. Its Sign
// method is called with a SHA-256 digest.
func SignedAssertion(clientID string, key crypto.Signer, opts ...AssertionOption) (ClientAssertion, error) {
	if clientID == "" {
		return nil, errors.New("tokensource: SignedAssertion needs a client ID")
	}
	if isNil(key) {
		return nil, errors.New("tokensource: SignedAssertion needs a key")
	}
	s := &signer{clientID: clientID, key: key}
	for _, o := range opts {
		o.applyAssertion(s)
	}
	if err := s.choose(); err != nil {
		return nil, err
	}
	return s.sign, nil
}

// SignedAssertionPEM is [SignedAssertion] with the key in PEM: PKCS #8,
// PKCS #1 (RSA) or SEC 1 (EC). Certificates in the same PEM are ignored
// unless [WithCertificate] is absent, in which case the first one whose
// public key matches is used for x5t#S256.
func SignedAssertionPEM(clientID string, keyPEM []byte, opts ...AssertionOption) (ClientAssertion, error) {
	key, cert, err := parseKeyPEM(keyPEM)
	if err != nil {
		return nil, err
	}
	if cert != nil {
		opts = append([]AssertionOption{WithCertificate(cert)}, opts...)
	}
	return SignedAssertion(clientID, key, opts...)
}

// signer is a SignedAssertion's configuration.
type signer struct {
	clientID, kid, aud string
	key                crypto.Signer
	cert               *x509.Certificate
	pss                bool
	method             jwt.SigningMethod
	x5t                string
}

// choose picks the algorithm for the key and checks the options against it.
func (s *signer) choose() error {
	switch pub := s.key.Public().(type) {
	case *rsa.PublicKey:
		if pub.N.BitLen() < 2048 {
			return fmt.Errorf("tokensource: SignedAssertion: RSA key of %d bits; at least 2048 are needed", pub.N.BitLen())
		}
		s.method = signerMethod{"RS256", nil}
		if s.pss {
			s.method = signerMethod{"PS256", &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}}
		}
	case *ecdsa.PublicKey:
		if pub.Curve.Params().Name != elliptic.P256().Params().Name || s.pss {
			return errors.New("tokensource: SignedAssertion: EC keys must be on P-256 (ES256), without WithPSS")
		}
		s.method = signerMethod{"ES256", nil}
	default:
		return fmt.Errorf("tokensource: SignedAssertion: unsupported key type %T", pub)
	}
	if s.cert != nil {
		if !publicKeysEqual(s.cert.PublicKey, s.key.Public()) {
			return errors.New("tokensource: SignedAssertion: the certificate does not hold the signing key's public key")
		}
		sum := sha256.Sum256(s.cert.Raw)
		s.x5t = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	return nil
}

// sign makes one assertion for tokenURL.
func (s *signer) sign(_ context.Context, tokenURL string) (string, error) {
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return "", err
	}
	aud := s.aud
	if aud == "" {
		aud = tokenURL
	}
	now := time.Now()
	t := jwt.NewWithClaims(s.method, jwt.RegisteredClaims{
		Issuer: s.clientID, Subject: s.clientID, Audience: jwt.ClaimStrings{aud}, ID: hex.EncodeToString(id[:]),
		IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now.Add(-assertionSkew)),
		ExpiresAt: jwt.NewNumericDate(now.Add(AssertionLifetime)),
	})
	if s.kid != "" {
		t.Header["kid"] = s.kid
	}
	if s.x5t != "" {
		t.Header["x5t#S256"] = s.x5t
	}
	a, err := t.SignedString(s.key)
	if err != nil {
		return "", fmt.Errorf("tokensource: signing the client assertion: %w", err)
	}
	return a, nil
}

// signerMethod is a jwt.SigningMethod that signs with any crypto.Signer, so
// that keys outside the process (HSM, KMS) work. golang-jwt assembles the
// token; only the signature is made here.
type signerMethod struct {
	alg string
	pss *rsa.PSSOptions
}

func (m signerMethod) Alg() string { return m.alg }

// Verify is not used: assertions are only signed here.
func (m signerMethod) Verify(string, []byte, any) error {
	return errors.New("tokensource: assertion methods only sign")
}

func (m signerMethod) Sign(signingString string, key any) ([]byte, error) {
	k, ok := key.(crypto.Signer)
	if !ok {
		return nil, jwt.ErrInvalidKeyType
	}
	sum := sha256.Sum256([]byte(signingString))
	var opts crypto.SignerOpts = crypto.SHA256
	if m.pss != nil {
		opts = m.pss
	}
	sig, err := k.Sign(rand.Reader, sum[:], opts)
	if err != nil || m.alg != "ES256" {
		return sig, err
	}
	return rawECDSA(sig)
}

// rawECDSA turns an ASN.1 ECDSA signature, as crypto.Signer returns it, into
// the 64-byte r‖s that JWS wants (RFC 7518 §3.4).
func rawECDSA(der []byte) ([]byte, error) {
	var sig struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(der, &sig); err != nil || len(rest) > 0 {
		return nil, errors.New("tokensource: the key's signer returned an unreadable ECDSA signature")
	}
	if sig.R.Sign() <= 0 || sig.S.Sign() <= 0 || sig.R.BitLen() > 256 || sig.S.BitLen() > 256 {
		return nil, errors.New("tokensource: the key's signer returned an out-of-range ECDSA signature")
	}
	out := make([]byte, 64)
	sig.R.FillBytes(out[:32])
	sig.S.FillBytes(out[32:])
	return out, nil
}

// publicKeysEqual reports whether two public keys are the same key.
func publicKeysEqual(a, b crypto.PublicKey) bool {
	k, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(b)
}

// parseKeyPEM returns the private key in keyPEM, and the first certificate
// there that holds its public key, if any.
func parseKeyPEM(keyPEM []byte) (crypto.Signer, *x509.Certificate, error) {
	var key crypto.Signer
	var certs []*x509.Certificate
	for rest := keyPEM; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		switch b.Type {
		case "CERTIFICATE":
			if c, err := x509.ParseCertificate(b.Bytes); err == nil {
				certs = append(certs, c)
			}
		case "ENCRYPTED PRIVATE KEY":
			return nil, nil, errors.New("tokensource: the private key is encrypted; decrypt it first")
		case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY":
			if key != nil {
				return nil, nil, errors.New("tokensource: the PEM holds more than one private key")
			}
			k, err := parsePrivateKey(b)
			if err != nil {
				return nil, nil, err
			}
			key = k
		}
	}
	if key == nil {
		return nil, nil, errors.New("tokensource: no private key in the PEM")
	}
	for _, c := range certs {
		if publicKeysEqual(c.PublicKey, key.Public()) {
			return key, c, nil
		}
	}
	return key, nil, nil
}

func parsePrivateKey(b *pem.Block) (crypto.Signer, error) {
	var k any
	var err error
	switch b.Type {
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(b.Bytes)
	default:
		k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("tokensource: unreadable %s block", b.Type) // x509's text is safe, but says nothing more useful
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("tokensource: unsupported private key type %T", k)
	}
	return s, nil
}

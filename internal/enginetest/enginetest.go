// Package enginetest drives the refresh engine on a fake clock against the
// HTTPS test authority, for the tests of package tokensource and of the
// provider packages beside it.
package enginetest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/internal/clocktest"
	"github.com/grpccreds/grpccreds/tokensource"
	"golang.org/x/oauth2"
)

// The test authority's tenant and its one registered client.
const (
	Tenant   = "11111111-2222-3333-4444-555555555555"
	ClientID = "app-1"
	Secret   = "Sup3r-S3cret~value.for-tests"
	Scope    = "api://grpccreds/.default"
)

// Authority starts the HTTPS test authority with ClientID registered, and
// stops it when the test ends.
func Authority(t testing.TB) *grpccredstest.IdentityProvider {
	t.Helper()
	s := grpccredstest.NewIdentityProvider(t, Tenant, "api://grpccreds")
	s.Register(ClientID, grpccredstest.Client{Secret: Secret, Identity: grpccredstest.Identity{Name: "svc", OID: "o-1", Roles: []string{"Trader"}}})
	return s
}

// Outage takes the authority down at minute 30 and brings it back on the same
// port at minute 57: 50 % to 95 % of a 1 h token's lifetime.
func Outage(t testing.TB, s *grpccredstest.IdentityProvider, minute int) {
	t.Helper()
	switch minute {
	case 30:
		s.SetMode(grpccredstest.Down)
	case 57:
		s.SetMode(grpccredstest.Healthy)
	}
}

// Driver drives an engine on a fake clock and follows its refreshes.
type Driver struct {
	// Clock is the engine's clock.
	Clock  *clocktest.Clock
	t      testing.TB
	events chan tokensource.Event
	due    time.Time // when the engine fetches next; zero: at the next call
}

// New returns a driver and the engine options that bind it: the fake clock,
// no jitter, and an observer.
func New(t testing.TB) (*Driver, []tokensource.Option) {
	d := &Driver{t: t, Clock: clocktest.New(time.Now()), events: make(chan tokensource.Event, 64)}
	return d, []tokensource.Option{tokensource.WithClock(d.Clock.Now), tokensource.WithJitter(0),
		tokensource.WithObserver(func(e tokensource.Event) { d.events <- e })}
}

// Call calls r.Token. If the call is due to start a fetch (no token yet, or
// the refresh point or next retry has come), it also waits for the fetch's
// outcome, so that fake time never runs ahead of a fetch, and returns it.
func (d *Driver) Call(r *tokensource.Refresher) (*oauth2.Token, *tokensource.Event, error) {
	due := d.due.IsZero() || !d.Clock.Now().Before(d.due)
	tok, err := r.Token()
	if !due {
		return tok, nil, err
	}
	e := d.Outcome()
	return tok, &e, err
}

// Outcome waits (at most 10 s) for the next fetch to succeed or fail, and
// notes when the engine will fetch again.
func (d *Driver) Outcome() tokensource.Event {
	d.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e := <-d.events:
			switch e.Kind {
			case tokensource.RefreshSucceeded:
				d.due = e.RefreshAt
				return e
			case tokensource.RefreshFailed:
				d.due = e.NextRetry
				return e
			}
		case <-timeout:
			d.t.Fatal("no fetch outcome within 10 s")
		}
	}
}

// RSACertPEM returns a self-signed certificate and its RSA key, PEM-encoded
// in one block of bytes, as an application's client certificate is kept.
func RSACertPEM(t testing.TB) []byte {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "cert-app"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	return append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})...)
}

// ColdCrowd has n callers ask r for a token at once, and returns how many got
// one with an access token in it.
func ColdCrowd(r *tokensource.Refresher, n int) int64 {
	var wg sync.WaitGroup
	var ok atomic.Int64
	for range n {
		wg.Go(func() {
			if tok, err := r.Token(); err == nil && tok.AccessToken != "" {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	return ok.Load()
}

// Engine puts the refresh engine in front of src, failing the test if
// Refreshing refuses the options, and closes it when the test ends.
func Engine(t testing.TB, src oauth2.TokenSource, opts ...tokensource.Option) *tokensource.Refresher {
	t.Helper()
	r, err := tokensource.Refreshing(src, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

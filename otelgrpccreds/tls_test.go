package otelgrpccreds

import (
	"strings"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/composite"
	"github.com/grpccreds/grpccreds/grpccredstest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// TestTLSObserver: the gauge reports the time left on the certificate in
// use, and follows a rotation; refused material is counted and does not move
// the gauge; nothing exported carries key material.
func TestTLSObserver(t *testing.T) {
	tel := newTelemetry(t)
	o, err := NewTLSObserver(tel.opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	ca := grpccredstest.NewCA(t, "clients")
	now := time.Now()
	o.now = func() time.Time { return now }
	first := ca.ClientValid("svc", now.Add(-time.Hour), now.Add(3*time.Hour))
	tc, err := composite.TLS(ca.PEM, composite.WithClientCertificate(first.CertPEM, first.KeyPEM), o.Option())
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	left := func() float64 {
		t.Helper()
		g, ok := tel.collect(t)[CertificateTimeLeft].Data.(metricdata.Gauge[float64])
		if !ok || len(g.DataPoints) != 1 {
			t.Fatalf("gauge %+v", g)
		}
		return g.DataPoints[0].Value
	}
	if got := left(); got < 3*3600-1 || got > 3*3600+1 {
		t.Fatalf("time left %v s, want 3 h", got)
	}
	if err := tc.UpdateCertificate(first.CertPEM, []byte("garbage")); err == nil {
		t.Fatal("garbage key accepted")
	}
	second := ca.ClientValid("svc", now.Add(-time.Hour), now.Add(5*time.Hour))
	if err := tc.UpdateCertificate(second.CertPEM, second.KeyPEM); err != nil {
		t.Fatal(err)
	}
	if got := left(); got < 5*3600-1 || got > 5*3600+1 {
		t.Fatalf("time left after rotation %v s, want 5 h", got)
	}
	ms := tel.collect(t)
	got := sums(t, ms[TLSChanges])
	want := map[string]int64{
		"grpccreds.outcome=applied,grpccreds.tls.part=certificate": 2,
		"grpccreds.outcome=applied,grpccreds.tls.part=roots":       1,
		"grpccreds.outcome=refused,grpccreds.tls.part=certificate": 1,
	}
	if len(got) != len(want) {
		t.Fatalf("changes %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("changes %v, want %v", got, want)
		}
	}
	if dump := tel.dump(t, ms); strings.Contains(dump, string(second.KeyPEM[40:80])) || strings.Contains(dump, "PRIVATE") {
		t.Fatal("exported telemetry carries key material")
	}
}

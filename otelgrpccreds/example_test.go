package otelgrpccreds_test

import (
	"context"
	"fmt"
	"time"

	"github.com/grpccreds/grpccreds/otelgrpccreds"
	"github.com/grpccreds/grpccreds/serverauth"
	"github.com/grpccreds/grpccreds/tokensource"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"golang.org/x/oauth2"
)

// Attach a RefreshObserver to an engine; its metrics go to the meter
// provider given (the global one by default).
func ExampleRefreshObserver() {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())

	obs, err := otelgrpccreds.NewRefreshObserver(otelgrpccreds.WithMeterProvider(mp))
	if err != nil {
		panic(err)
	}
	defer obs.Close()
	src := tokensource.Func(func(context.Context) (*oauth2.Token, error) {
		return &oauth2.Token{AccessToken: "token", Expiry: time.Now().Add(time.Hour)}, nil
	})
	ts, err := tokensource.Refreshing(src, obs.Option())
	if err != nil {
		panic(err)
	}
	defer ts.Close()
	obs.Watch(ts) // for the time-to-expiry gauge
	ts.Token()
	ts.Token() // served from the cache: nothing recorded

	var rm metricdata.ResourceMetrics
	reader.Collect(context.Background(), &rm)
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if s, ok := m.Data.(metricdata.Sum[int64]); ok {
			fmt.Println(m.Name, s.DataPoints[0].Value)
		}
	}
	// Output:
	// grpccreds.token.fetches 1
	// grpccreds.token.waits 1
}

// Count a server's checks by outcome and cache lookup.
func ExampleVerifyObserver() {
	obs, err := otelgrpccreds.NewVerifyObserver() // the global meter provider
	if err != nil {
		panic(err)
	}
	v, err := serverauth.NewVerifier(serverauth.Config{
		Issuers: []serverauth.Issuer{{URL: "https://login.example.com/tenant/v2.0", Audiences: []string{"api://my-api"},
			JWKSURL: "https://login.example.com/tenant/discovery/v2.0/keys"}},
		Observer: obs.Observe,
	})
	if err != nil {
		panic(err)
	}
	defer v.Close()
	_ = v // grpc.NewServer(grpc.ChainUnaryInterceptor(v.UnaryServerInterceptor()))
}

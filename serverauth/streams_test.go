package serverauth

import (
	"context"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
)

// serveStreams runs a TLS gRPC server whose health service is behind v's
// interceptors and returns a client.
func serveStreams(t *testing.T, v *Verifier) healthpb.HealthClient {
	return serveWith(t, grpc.UnaryInterceptor(v.UnaryServerInterceptor()), grpc.StreamInterceptor(v.StreamServerInterceptor()))
}

// watch opens a Health/Watch stream (which sends the status, then waits
// for changes until the stream ends) with a token that expires in about a
// second, and returns how the stream ended after its first message, and
// when, within limit.
func watch(t *testing.T, v *Verifier, limit time.Duration) (time.Duration, error) {
	client := serveStreams(t, v)
	exp := time.Now().Add(time.Second).Unix() + 1 // exp counts whole seconds: 1 to 2 s from now
	tok := sign("k1", with(func(c jwt.MapClaims) { c["exp"] = exp }))
	ctx, cancel := context.WithTimeout(metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+tok), limit)
	defer cancel()
	stream, err := client.Watch(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != nil {
		t.Fatalf("first message: %v", err)
	}
	_, err = stream.Recv()
	return time.Until(time.Unix(exp, 0)), err
}

// By default a stream ends with Unauthenticated when its token expires.
func TestStreamEndsWhenItsTokenExpires(t *testing.T) {
	cfg := staticConfig("k1")
	cfg.Leeway = -1 // none
	v := must(NewVerifier(cfg))
	defer v.Close()
	sinceExp, err := watch(t, v, 10*time.Second)
	if code(err) != codes.Unauthenticated {
		t.Fatalf("stream ended with %v, want Unauthenticated", err)
	}
	if sinceExp > 0 || sinceExp < -time.Second {
		t.Errorf("stream ended %v after exp, want within a second of it", -sinceExp)
	}
}

// KeepStreamsPastExpiry lets the stream run on past its token's exp: here
// until the caller's own deadline (which the client may see as its own
// DeadlineExceeded or as the health service's Canceled, whichever side
// notices first).
func TestStreamKeptPastExpiry(t *testing.T) {
	cfg := staticConfig("k1")
	cfg.Leeway = -1
	cfg.KeepStreamsPastExpiry = true
	v := must(NewVerifier(cfg))
	defer v.Close()
	sinceExp, err := watch(t, v, 3500*time.Millisecond)
	if c := code(err); c != codes.DeadlineExceeded && c != codes.Canceled {
		t.Fatalf("stream ended with %v, want the caller's deadline", err)
	}
	if sinceExp > -time.Second {
		t.Errorf("stream ended only %v after exp", -sinceExp)
	}
}

// Leeway extends a stream's life past exp as it does a token's.
func TestStreamExpiryHasLeeway(t *testing.T) {
	cfg := staticConfig("k1")
	cfg.Leeway = 1500 * time.Millisecond
	v := must(NewVerifier(cfg))
	defer v.Close()
	sinceExp, err := watch(t, v, 10*time.Second)
	if code(err) != codes.Unauthenticated {
		t.Fatalf("stream ended with %v, want Unauthenticated", err)
	}
	if sinceExp > -time.Second {
		t.Errorf("stream ended %v after exp, want the leeway's 1.5 s", -sinceExp)
	}
}

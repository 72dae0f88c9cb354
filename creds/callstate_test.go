package creds

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/internal/enginetest"

	"github.com/grpccreds/grpccreds/internal/callstate"
	"github.com/grpccreds/grpccreds/tokensource"
	"golang.org/x/oauth2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The Bearer tells a retrying connection which token generation a call
// carried, through the call's callstate.State. These tests check that it
// records exactly what it sent, and nothing when it sent nothing.

func metadataFor(t *testing.T, b *Bearer, ctx context.Context, st *callstate.State) (string, error) {
	t.Helper()
	if st.Owner == nil {
		st.Owner = b
	}
	md, err := b.GetRequestMetadata(callstate.With(ctx, st))
	if err != nil {
		return "", err
	}
	return md["authorization"], nil
}

func TestBearerRecordsTheGenerationItSent(t *testing.T) {
	var fetches atomic.Int64
	eng := enginetest.Engine(t, tokensource.Func(func(context.Context) (*oauth2.Token, error) {
		n := fetches.Add(1)
		return &oauth2.Token{AccessToken: fmt.Sprintf("tok-%d", n), Expiry: time.Now().Add(time.Hour)}, nil
	}))
	defer eng.Close()
	b := NewBearer(eng)

	st := &callstate.State{}
	if v, err := metadataFor(t, b, tlsCtx(), st); err != nil || v != "Bearer tok-1" || st.Sent() != 1 {
		t.Fatalf("first call: %q, %v, recorded %d; want tok-1 recorded as 1", v, err, st.Sent())
	}
	if !invalidate(eng, 1) {
		t.Fatal("Invalidate(1) = false for a fresh engine")
	}
	st = &callstate.State{After: 1}
	if v, err := metadataFor(t, b, tlsCtx(), st); err != nil || v != "Bearer tok-2" || st.Sent() != 2 {
		t.Fatalf("call after generation 1: %q, %v, recorded %d; want tok-2 recorded as 2", v, err, st.Sent())
	}

	// Refused before anything was sent: nothing recorded, nothing fetched.
	st = &callstate.State{}
	if _, err := metadataFor(t, b, plainCtx(&net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 443}), st); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("insecure peer: %v", err)
	}
	if st.Sent() != 0 {
		t.Fatalf("a refused call recorded generation %d", st.Sent())
	}
	// A per-call token is not the engine's: nothing recorded.
	st = callstate.From(b.WithToken(context.Background(), "own"))
	if v, err := metadataFor(t, b, tlsCtx(), st); err != nil || v != "Bearer own" || st.Sent() != 0 {
		t.Fatalf("per-call token: %q, %v, recorded %d; want own, nothing recorded", v, err, st.Sent())
	}
	if n := fetches.Load(); n != 2 {
		t.Fatalf("fetches = %d, want 2", n)
	}

	// A source failure: the error, nothing recorded.
	failing := enginetest.Engine(t, tokensource.Func(func(context.Context) (*oauth2.Token, error) {
		return nil, status.Error(codes.Unavailable, "provider down")
	}))
	defer failing.Close()
	st = &callstate.State{}
	if _, err := metadataFor(t, NewBearer(failing), tlsCtx(), st); status.Code(err) != codes.Unavailable || st.Sent() != 0 {
		t.Fatalf("failing source: %v, recorded %d; want Unavailable, nothing recorded", err, st.Sent())
	}
	// Without the engine there are no generations to record.
	st = &callstate.State{}
	if _, err := metadataFor(t, NewBearer(staticSource("plain")), tlsCtx(), st); err != nil || st.Sent() != 0 {
		t.Fatalf("plain source: %v, recorded %d; want nothing recorded", err, st.Sent())
	}
}

// While the replacement of an invalidated token is being fetched, calls that
// were not rejected keep the demoted token at once; a call that must move
// past it waits for the replacement, only as long as its own deadline.
func TestBearerWaitsForTheReplacementOnlyWhenAsked(t *testing.T) {
	release := make(chan struct{})
	var fetches atomic.Int64
	eng := enginetest.Engine(t, tokensource.Func(func(ctx context.Context) (*oauth2.Token, error) {
		n := fetches.Add(1)
		if n > 1 {
			select {
			case <-release:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		return &oauth2.Token{AccessToken: fmt.Sprintf("tok-%d", n), Expiry: time.Now().Add(time.Hour)}, nil
	}), tokensource.WithFetchTimeout(10*time.Second))
	defer eng.Close()
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	b := NewBearer(eng)
	if v, err := metadataFor(t, b, tlsCtx(), &callstate.State{}); err != nil || v != "Bearer tok-1" {
		t.Fatalf("first call: %q, %v", v, err)
	}
	if !invalidate(eng, 1) {
		t.Fatal("Invalidate(1) = false")
	}
	st := &callstate.State{}
	if v, err := metadataFor(t, b, tlsCtx(), st); err != nil || v != "Bearer tok-1" || st.Sent() != 1 {
		t.Fatalf("a call not rejected, during the replacement: %q, %v, recorded %d; want the demoted tok-1", v, err, st.Sent())
	}

	short, cancel := context.WithTimeout(tlsCtx(), 50*time.Millisecond)
	defer cancel()
	st = &callstate.State{After: 1}
	if _, err := metadataFor(t, b, short, st); status.Code(err) != codes.DeadlineExceeded || st.Sent() != 0 {
		t.Fatalf("a retry whose deadline passes first: %v, recorded %d; want DeadlineExceeded, nothing recorded", err, st.Sent())
	}

	type result struct {
		v   string
		err error
	}
	done := make(chan result, 1)
	st = &callstate.State{After: 1}
	go func() {
		v, err := metadataFor(t, b, tlsCtx(), st)
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		t.Fatalf("a retry did not wait for the replacement: %q, %v", r.v, r.err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	select {
	case r := <-done:
		if r.err != nil || r.v != "Bearer tok-2" || st.Sent() != 2 {
			t.Fatalf("the retry got %q, %v, recorded %d; want tok-2 recorded as 2", r.v, r.err, st.Sent())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the retry did not get the replacement within 5 s")
	}
	if n := fetches.Load(); n != 2 {
		t.Fatalf("fetches = %d, want 2", n)
	}
}

// A credential reads After and records only in the state its own connection
// made for the call: another credential seeing the same context (a second
// credential on the connection, or a call to another connection with that
// context) leaves it alone.
func TestBearerIgnoresAnotherCredentialsCallState(t *testing.T) {
	var fetches atomic.Int64
	eng := enginetest.Engine(t, tokensource.Func(func(context.Context) (*oauth2.Token, error) {
		n := fetches.Add(1)
		return &oauth2.Token{AccessToken: fmt.Sprintf("tok-%d", n), Expiry: time.Now().Add(time.Hour)}, nil
	}))
	defer eng.Close()
	b, other := NewBearer(eng), NewBearer(staticSource("x"))
	st := &callstate.State{Owner: other, After: 5}
	if v, err := metadataFor(t, b, tlsCtx(), st); err != nil || v != "Bearer tok-1" || st.Sent() != 0 || fetches.Load() != 1 {
		t.Fatalf("%q, %v, recorded %d, %d fetches; want tok-1 with nothing recorded and no wait for generation 5",
			v, err, st.Sent(), fetches.Load())
	}
}

package connection

import (
	"context"
	"time"

	"github.com/grpccreds/grpccreds/internal/engine"
	"golang.org/x/oauth2"
	"google.golang.org/grpc/connectivity"
)

// interactiveFetch is the fetch timeout from which a source is taken to
// involve a person (a browser sign-in, a device code): such a source is not
// asked for a token until the first call.
const interactiveFetch = time.Minute

// contextual reports whether ts honours a context (a TokenContext method):
// only such a source is asked early, since the engine cannot stop a plain
// oauth2.TokenSource, whose fetch would outlive a Connection closed at once.
func contextual(ts oauth2.TokenSource) bool {
	_, ok := ts.(interface {
		TokenContext(context.Context) (*oauth2.Token, error)
	})
	return ok
}

// interactive reports whether ts declares a fetch timeout long enough for a
// person to sign in (engine.FetchTimeouter).
func interactive(ts oauth2.TokenSource) bool {
	ft, ok := ts.(engine.FetchTimeouter)
	return ok && ft.EngineFetchTimeout() >= interactiveFetch
}

// start begins connecting and, if fetch, the engine's first fetch, both in
// the background, unless o asks to stay lazy. Nothing here fails or blocks:
// a failure surfaces on the first call.
func (c *Connection) start(o options, eng oauth2.TokenSource, fetch bool) {
	if o.lazy {
		return
	}
	c.cc.Connect()
	if fetch {
		engine.Prefetch(eng) // the engine's own fetch: Close stops it, and no caller is recorded as waiting
	}
}

// firstAttemptWait bounds how long the first call waits for the channel to
// leave a failure of its early attempt to connect.
const firstAttemptWait = time.Second

// firstCall gives the first call what a lazy connection would give it: an
// attempt to connect of its own. The channel began connecting when the
// Connection was made; if that failed (the server was not up yet), gRPC
// waits out its reconnect backoff and fails calls at once meanwhile. So the
// backoff is cut short, and the call waits for the channel to become ready,
// within ctx and at most firstAttemptWait: gRPC reports a failed attempt
// after a failed one as no change at all, so a server that stays down costs
// the first call that second before it fails as it would have.
func (c *Connection) firstCall(ctx context.Context) {
	if c.called.Swap(true) || c.cc.GetState() != connectivity.TransientFailure {
		return
	}
	c.cc.ResetConnectBackoff()
	ctx, cancel := context.WithTimeout(ctx, firstAttemptWait)
	defer cancel()
	c.cc.WaitForStateChange(ctx, connectivity.TransientFailure)
}

package connection

import (
	"context"
	"time"

	"github.com/grpccreds/grpccreds/internal/engine"
	"golang.org/x/oauth2"
)

// interactiveFetch is the fetch timeout from which a source is taken to
// involve a person (a browser sign-in, a device code): such a source is not
// asked for a token until the first call.
const interactiveFetch = time.Minute

// interactive reports whether ts declares a fetch timeout long enough for a
// person to sign in (engine.FetchTimeouter).
func interactive(ts oauth2.TokenSource) bool {
	ft, ok := ts.(engine.FetchTimeouter)
	return ok && ft.EngineFetchTimeout() >= interactiveFetch
}

// start begins connecting and, if fetch, the engine's first fetch, both in
// the background, unless o asks to stay lazy. Nothing here fails or blocks:
// a failure surfaces on the first call. Close stops the fetch's wait.
func (c *Connection) start(o options, fetch bool) {
	if o.lazy {
		return
	}
	c.cc.Connect()
	if !fetch {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.source(ctx) // the engine keeps the token, or the failure, for the first call
	}()
	c.stop = func() {
		cancel()
		<-done
	}
}

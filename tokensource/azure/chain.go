package azure

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/grpccreds/grpccreds/tokensource"
	"golang.org/x/oauth2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// chain fetches from the first link that works, then from that link alone.
// Under the engine one fetch runs at a time; used without it, concurrent
// first fetches may each walk the chain, and the mutex keeps the choice
// whole.
type chain struct {
	links  []link
	mu     sync.Mutex
	chosen tokensource.ContextTokenSource
}

func (c *chain) Token() (*oauth2.Token, error) { return c.TokenContext(context.Background()) }

// TokenContext fetches from the chosen link, or chooses one.
func (c *chain) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	c.mu.Lock()
	chosen := c.chosen
	c.mu.Unlock()
	if chosen != nil {
		return chosen.TokenContext(ctx)
	}
	var r report
	for _, l := range c.links {
		if l.skip != nil {
			r.skip(l.name, l.skip)
			continue
		}
		tok, err := l.src.TokenContext(ctx)
		if err == nil {
			c.mu.Lock()
			c.chosen = l.src
			c.mu.Unlock()
			return tok, nil
		}
		r.fail(l.name, err)
		if l.final(err) {
			return nil, r.stopped()
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, r.exhausted()
}

// report gathers what each link of the chain did.
type report struct {
	lines    []string
	failures []error
	rejected bool
}

// skip notes a link that is not configured.
func (r *report) skip(name string, why error) {
	r.lines = append(r.lines, name+": skipped: "+reason(why))
}

// fail notes a link that could not give a token.
func (r *report) fail(name string, err error) {
	r.lines = append(r.lines, name+": "+reason(err))
	r.failures = append(r.failures, err)
	r.rejected = r.rejected || status.Code(err) == codes.Unauthenticated
}

// stopped is the error of a chain that its last link ended: it names that
// link first, then the links before it.
func (r *report) stopped() error {
	last := r.failures[len(r.failures)-1]
	code := codes.Unavailable
	if status.Code(last) == codes.Unauthenticated {
		code = codes.Unauthenticated
	}
	n := len(r.lines) - 1
	msg := "azure: Default stopped at " + r.lines[n]
	if n > 0 {
		msg += " (before it: " + strings.Join(r.lines[:n], "; ") + ")"
	}
	return &chainError{code: code, msg: msg, cause: last}
}

// exhausted is the error of a chain no link of which gave a token:
// Unauthenticated if a credential was rejected (the fix is to sign in or
// correct it), else Unavailable.
func (r *report) exhausted() error {
	code := codes.Unavailable
	if r.rejected {
		code = codes.Unauthenticated
	}
	return &chainError{code: code, msg: "azure: Default found no credential that works: " + strings.Join(r.lines, "; "),
		cause: errors.Join(r.failures...)}
}

// chainError is the chain's own message and code over the failures that led
// to it, through which the engine still finds a Retry-After.
type chainError struct {
	code  codes.Code
	msg   string
	cause error
}

func (e *chainError) Error() string              { return e.msg }
func (e *chainError) Unwrap() error              { return e.cause }
func (e *chainError) GRPCStatus() *status.Status { return status.New(e.code, e.msg) }

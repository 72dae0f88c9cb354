package azure_test

import (
	"testing"

	"github.com/grpccreds/grpccreds/internal/engine"
	"github.com/grpccreds/grpccreds/tokensource"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// config is what every source of package azure is: a configuration that
// builds its source.
type config interface {
	TokenSource() (tokensource.ContextTokenSource, error)
}

// source builds c's source, failing the test if c is refused.
func source(t testing.TB, c config) tokensource.ContextTokenSource {
	t.Helper()
	src, err := c.TokenSource()
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// refresher puts the refresh engine, configured by opts, in front of c's
// source, failing the test if either is refused, and closes it when the
// test ends.
func refresher(t testing.TB, c config, opts ...tokensource.Option) *tokensource.Refresher {
	t.Helper()
	r, err := tokensource.Refreshing(source(t, c), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// generations is r's generation protocol, through which a test invalidates
// its token as a connection does when a server rejects it.
func generations(t testing.TB, r *tokensource.Refresher) engine.Generational {
	t.Helper()
	g, ok := engine.Of(r)
	if !ok {
		t.Fatal("the engine has no generation protocol")
	}
	return g
}

// invalidate reports r's current token rejected, and whether r accepted.
func invalidate(t testing.TB, r *tokensource.Refresher) bool {
	t.Helper()
	g := generations(t, r)
	return g.Invalidate(g.Generation())
}

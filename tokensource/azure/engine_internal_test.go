package azure

import (
	"testing"

	"github.com/grpccreds/grpccreds/tokensource"
)

// refresher is the internal tests' twin of the helper of package
// azure_test: the refresh engine in front of c's source, closed when the
// test ends.
func refresher(t testing.TB, c interface {
	TokenSource() (tokensource.ContextTokenSource, error)
}, opts ...tokensource.Option) *tokensource.Refresher {
	t.Helper()
	src, err := c.TokenSource()
	if err != nil {
		t.Fatal(err)
	}
	r, err := tokensource.Refreshing(src, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

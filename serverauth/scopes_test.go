package serverauth

import (
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"google.golang.org/grpc/codes"
)

// A method listed for roles and for scopes admits a caller with one of its
// roles or one of its scopes: either is enough, neither is PermissionDenied.
// A method listed only for scopes needs a scope (a role does not do), and
// the exact method's entry takes precedence over its service's wildcard.
func TestMethodScopes(t *testing.T) {
	cfg := staticConfig("k1")
	cfg.MethodRoles = map[string][]string{"/trading.v1.Orders/Place": {"Trader"}}
	cfg.MethodScopes = map[string][]string{
		"/trading.v1.Orders/Place": {"Orders.Write"},
		"/trading.v1.Orders/*":     {"Orders.Read"},
		"/trading.v1.Orders/Purge": {"Orders.Admin"},
	}
	v := must(NewVerifier(cfg))
	defer v.Close()
	token := func(roles any, scopeClaim string, scopes any) string {
		return sign("k1", with(func(c jwt.MapClaims) {
			delete(c, "roles")
			if roles != nil {
				c["roles"] = roles
			}
			if scopeClaim != "" {
				c[scopeClaim] = scopes
			}
		}))
	}
	for name, tc := range map[string]struct {
		method string
		tok    string
		want   codes.Code
	}{
		"role only, method needs role or scope":     {"/trading.v1.Orders/Place", token([]string{"Trader"}, "", nil), codes.OK},
		"scp only, method needs role or scope":      {"/trading.v1.Orders/Place", token(nil, "scp", "Orders.Read Orders.Write"), codes.OK},
		"scope (RFC 9068) only":                     {"/trading.v1.Orders/Place", token(nil, "scope", "openid Orders.Write"), codes.OK},
		"scopes array only":                         {"/trading.v1.Orders/Place", token(nil, "scopes", []string{"Orders.Write"}), codes.OK},
		"scp as an array":                           {"/trading.v1.Orders/Place", token(nil, "scp", []string{"Orders.Write"}), codes.OK},
		"neither the role nor the scope":            {"/trading.v1.Orders/Place", token([]string{"Reader"}, "scp", "Orders.Read"), codes.PermissionDenied},
		"a scope that only starts like the one":     {"/trading.v1.Orders/Place", token(nil, "scp", "Orders.Writer"), codes.PermissionDenied},
		"scope names joined without a space":        {"/trading.v1.Orders/Place", token(nil, "scp", "Orders.ReadOrders.Write"), codes.PermissionDenied},
		"wildcard scope":                            {"/trading.v1.Orders/List", token(nil, "scp", "Orders.Read"), codes.OK},
		"wildcard needs its scope":                  {"/trading.v1.Orders/List", token([]string{"Trader"}, "", nil), codes.PermissionDenied},
		"exact entry beats wildcard":                {"/trading.v1.Orders/Purge", token(nil, "scp", "Orders.Read"), codes.PermissionDenied},
		"exact entry's scope":                       {"/trading.v1.Orders/Purge", token(nil, "scp", "Orders.Admin"), codes.OK},
		"a method in neither table needs nothing":   {"/trading.v1.Quotes/Get", token(nil, "", nil), codes.OK},
		"scopes in a non-string claim do not count": {"/trading.v1.Orders/List", token(nil, "scp", 42), codes.PermissionDenied},
	} {
		if _, err := callAs(v, tc.method, tc.tok); code(err) != tc.want {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
	_, err := callAs(v, "/trading.v1.Orders/Place", token(nil, "", nil))
	if msg := err.Error(); !strings.Contains(msg, "roles [Trader]") || !strings.Contains(msg, "scopes [Orders.Write]") {
		t.Errorf("denial does not say what would do: %q", msg)
	}
}

// MethodScopes is checked as MethodRoles is.
func TestMethodScopesNamesChecked(t *testing.T) {
	for name, tc := range map[string]struct {
		scopes map[string][]string
		skip   []string
		want   string
	}{
		"malformed key":          {map[string][]string{"Orders/List": {"a"}}, nil, "MethodScopes key"},
		"no scopes":              {map[string][]string{"/p.S/M": {}}, nil, "lists no scopes"},
		"empty scope":            {map[string][]string{"/p.S/M": {""}}, nil, "empty scope"},
		"two scopes in one":      {map[string][]string{"/p.S/M": {"a b"}}, nil, "space"},
		"skipped method":         {map[string][]string{"/p.S/M": {"a"}}, []string{"/p.S/M"}, "both Skip and MethodScopes"},
		"skipped under wildcard": {map[string][]string{"/p.S/*": {"a"}}, []string{"/p.S/M"}, "under MethodScopes"},
	} {
		cfg := staticConfig("k1")
		cfg.MethodScopes, cfg.Skip = tc.scopes, tc.skip
		v, err := NewVerifier(cfg)
		if err == nil {
			v.Close()
			t.Errorf("%s: accepted", name)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %q does not say %q", name, err, tc.want)
		}
	}
}

// A method named exactly in one table is not opened by a service wildcard
// in the other: its own entry is its whole rule.
func TestExactEntryShadowsBothWildcards(t *testing.T) {
	cfg := staticConfig("k1")
	cfg.MethodRoles = map[string][]string{"/pkg.S/Admin": {"Admin"}, "/pkg.S/*": {"Reader"}}
	cfg.MethodScopes = map[string][]string{"/pkg.S/*": {"orders.read"}, "/pkg.S/Export": {"orders.export"}}
	v := must(NewVerifier(cfg))
	defer v.Close()
	tok := func(roles []string, scp string) string {
		return sign("k1", with(func(c jwt.MapClaims) { c["roles"], c["scp"] = roles, scp }))
	}
	for name, tc := range map[string]struct {
		method, tok string
		want        codes.Code
	}{
		"the service's scope does not open Admin": {"/pkg.S/Admin", tok(nil, "orders.read"), codes.PermissionDenied},
		"the service's role does not open Admin":  {"/pkg.S/Admin", tok([]string{"Reader"}, ""), codes.PermissionDenied},
		"Admin's own role":                        {"/pkg.S/Admin", tok([]string{"Admin"}, ""), codes.OK},
		"the service's role does not open Export": {"/pkg.S/Export", tok([]string{"Reader"}, "orders.read"), codes.PermissionDenied},
		"Export's own scope":                      {"/pkg.S/Export", tok(nil, "orders.export"), codes.OK},
		"another method: the service's role":      {"/pkg.S/List", tok([]string{"Reader"}, ""), codes.OK},
		"another method: the service's scope":     {"/pkg.S/List", tok(nil, "orders.read"), codes.OK},
		"another method: neither":                 {"/pkg.S/List", tok([]string{"Admin"}, "orders.export"), codes.PermissionDenied},
	} {
		if _, err := callAs(v, tc.method, tc.tok); code(err) != tc.want {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
}

// A check with long service names and both tables allocates no more than
// one with neither.
func TestRulesLookupAllocatesNothing(t *testing.T) {
	const method = "/com.example.trading.v1.OrderService/List"
	plain := must(NewVerifier(staticConfig("k1")))
	defer plain.Close()
	cfg := staticConfig("k1")
	cfg.MethodRoles = map[string][]string{"/com.example.trading.v1.OrderService/*": {"Trader"}}
	cfg.MethodScopes = map[string][]string{"/com.example.trading.v1.OrderService/*": {"orders.read"}}
	tables := must(NewVerifier(cfg))
	defer tables.Close()
	tok := sign("k1", baseClaims())
	allocs := map[string]float64{}
	for name, v := range map[string]*Verifier{"no tables": plain, "both tables": tables} {
		if _, err := callAs(v, method, tok); err != nil {
			t.Fatal(err)
		}
		allocs[name] = testing.AllocsPerRun(200, func() { callAs(v, method, tok) })
	}
	if allocs["both tables"] != allocs["no tables"] {
		t.Errorf("allocations per check: %v", allocs)
	}
}

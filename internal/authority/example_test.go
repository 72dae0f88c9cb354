package authority_test

import (
	"fmt"
	"time"

	"github.com/grpccreds/grpccreds/internal/authority"
	"github.com/grpccreds/grpccreds/tokensource"
)

func ExampleAuthority_Issue() {
	a, _ := authority.New("https://login.example.test/tenant/v2.0", "api://example")
	tok, _ := a.Issue(authority.Identity{Name: "Trading Bot", OID: "o-1", Roles: []string{"Trader"}}, time.Hour)
	all, _ := tokensource.ParseClaims(tok)
	fmt.Println(tokensource.NewClaims(all).Name, tokensource.NewClaims(all).Roles)
	// Output: Trading Bot [Trader]
}

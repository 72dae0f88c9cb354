package testjwt_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/grpccreds/grpccreds/internal/testjwt"
)

func ExampleMint() {
	tok := testjwt.Mint(time.Now().Add(time.Hour), nil)
	fmt.Println(strings.Count(tok, "."))
	// Output: 2
}

package testpki_test

import (
	"fmt"

	"github.com/grpccreds/grpccreds/internal/testpki"
)

func ExampleNewCA() {
	ca := testpki.NewCA("example CA")
	leaf := ca.Server() // valid for 127.0.0.1, ::1 and localhost
	fmt.Println(len(leaf.TLS.Certificate) == 1, len(ca.PEM) > 0)
	// Output: true true
}

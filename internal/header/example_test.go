package header_test

import (
	"fmt"

	"github.com/grpccreds/grpccreds/internal/header"
)

func ExampleCheckValue() {
	fmt.Println(header.CheckValue("abc.def"))
	fmt.Println(header.CheckValue("abc\r\nx: y"))
	// Output:
	// <nil>
	// contains a control character (CR, LF, tab or similar) at offset 3
}

func ExampleCheckKey() {
	fmt.Println(header.CheckKey("x-signature"))
	fmt.Println(header.CheckKey("grpc-timeout"))
	// Output:
	// <nil>
	// metadata key "grpc-timeout" is reserved
}

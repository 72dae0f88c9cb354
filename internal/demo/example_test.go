package demo_test

import (
	"context"
	"fmt"

	"github.com/grpccreds/grpccreds/connection"
	"github.com/grpccreds/grpccreds/internal/demo"
)

func ExampleStart() {
	srv, err := demo.Start()
	if err != nil {
		panic(err)
	}
	defer srv.Stop()
	conn, _ := connection.WithTLS(srv.Addr, srv.CAPEM)
	defer conn.Close()
	fmt.Println(demo.Call(context.Background(), conn), srv.Conns())
	// Output: <nil> 1
}

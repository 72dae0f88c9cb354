package callstate_test

import (
	"context"
	"fmt"

	"github.com/grpccreds/grpccreds/internal/callstate"
)

func Example() {
	s := callstate.Next(context.Background())
	ctx := callstate.With(context.Background(), s)
	callstate.From(ctx).Record(7) // what a credential does when it sends generation 7
	fmt.Println(s.Sent())
	// Output: 7
}

package wallclock_test

import (
	"fmt"
	"time"

	"github.com/grpccreds/grpccreds/internal/wallclock"
)

func ExampleNow() {
	exp := time.Now().Add(time.Hour).UnixNano()
	fmt.Println(wallclock.Now() < exp)
	// Output: true
}

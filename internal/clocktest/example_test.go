package clocktest_test

import (
	"fmt"
	"time"

	"github.com/grpccreds/grpccreds/internal/clocktest"
)

func ExampleClock() {
	clk := clocktest.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	clk.Advance(90 * time.Second)
	fmt.Println(clk.Now().Format(time.TimeOnly))
	// Output: 00:01:30
}

func ExampleClock_Suspend() {
	clk := clocktest.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	clk.Advance(time.Minute)
	clk.Suspend(2 * time.Hour) // the lid is closed for two hours
	fmt.Println(clk.Now().Format(time.TimeOnly), clk.Monotonic())
	// Output: 02:01:00 1m0s
}

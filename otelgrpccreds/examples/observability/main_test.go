package main

import "testing"

// TestScenario runs the example's scenario, which checks every call's
// outcome and fails on the first surprise, under go test.
func TestScenario(t *testing.T) {
	if err := run(t); err != nil {
		t.Fatal(err)
	}
}

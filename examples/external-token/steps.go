package main

import (
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// expect prints what happened and returns an error if the code is not want.
func expect(what string, want codes.Code, err error) error {
	got := status.Code(err)
	detail := ""
	if err != nil {
		detail = ": " + status.Convert(err).Message()
	}
	fmt.Printf("%-56s -> %v%s\n", what, got, detail)
	if got != want {
		return fmt.Errorf("%s: got %v, want %v", what, got, want)
	}
	return nil
}

// inOrder runs the steps in order and stops at the first error.
func inOrder(steps ...func() error) error {
	for _, s := range steps {
		if err := s(); err != nil {
			return err
		}
	}
	return nil
}

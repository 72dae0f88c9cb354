// Package programtb lets programs that are not tests (the benchmark harness,
// the otelgrpccreds example) build grpccredstest parts, whose constructors
// take a testing.TB.
package programtb

import (
	"fmt"
	"os"
	"sync"
	"testing"
)

// T is a testing.TB for a program: Fatal and Error panic, Log writes to
// stderr, and Close runs the cleanups. Only the methods below may be
// called; the embedded TB is nil.
type T struct {
	testing.TB

	mu       sync.Mutex
	cleanups []func()
}

// New returns a T; Close it when the parts built with it are done.
func New() *T { return &T{} }

// Close runs the cleanups, last registered first.
func (t *T) Close() {
	t.mu.Lock()
	cs := t.cleanups
	t.cleanups = nil
	t.mu.Unlock()
	for i := len(cs) - 1; i >= 0; i-- {
		cs[i]()
	}
}

// Cleanup registers f to run at Close.
func (t *T) Cleanup(f func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cleanups = append(t.cleanups, f)
}

// Helper does nothing.
func (t *T) Helper() {}

// Name is "program".
func (t *T) Name() string { return "program" }

// Failed is false: a failure panics.
func (t *T) Failed() bool { return false }

// Error panics with args.
func (t *T) Error(args ...any) { panic(fmt.Sprint(args...)) }

// Errorf panics with the formatted message.
func (t *T) Errorf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }

// Fatal panics with args.
func (t *T) Fatal(args ...any) { panic(fmt.Sprint(args...)) }

// Fatalf panics with the formatted message.
func (t *T) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }

// Log writes args to stderr.
func (t *T) Log(args ...any) { fmt.Fprintln(os.Stderr, args...) }

// Logf writes the formatted message to stderr.
func (t *T) Logf(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }

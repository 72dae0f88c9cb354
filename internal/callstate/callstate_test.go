package callstate

import (
	"context"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestNextKeepsTheOverrideAndNothingElse(t *testing.T) {
	prev := &State{Override: "t", HasOverride: true, After: 3}
	prev.Record(4)
	s := Next(With(context.Background(), prev))
	if s.Override != "t" || !s.HasOverride || s.After != 0 || s.Sent() != 0 {
		t.Fatalf("Next = %+v (sent %d), want the override only", s, s.Sent())
	}
	if From(context.Background()) != nil {
		t.Fatal("From an empty context is not nil")
	}
}

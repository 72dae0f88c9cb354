package callstate

import (
	"context"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestNextKeepsTheTokensAndNothingElse(t *testing.T) {
	owner := new(int)
	prev := From(WithToken(context.Background(), owner, "t"))
	prev.After = 3
	prev.Record(4)
	prev.Past = &Fetched{Gen: 5}
	prev.RecordFetched(Fetched{Gen: 6})
	s := Next(With(context.Background(), prev))
	_, fetched := s.LastFetched()
	if tok, ok := s.Token(owner); tok != "t" || !ok || s.After != 0 || s.Sent() != 0 || s.Past != nil || fetched {
		t.Fatalf("Next = token %q %v, after %d, sent %d, past %v, fetched %v; want the token only", tok, ok, s.After, s.Sent(), s.Past, fetched)
	}
	if f, ok := prev.LastFetched(); !ok || f.Gen != 6 {
		t.Fatalf("LastFetched = %v, %v; want generation 6", f, ok)
	}
	if From(context.Background()) != nil {
		t.Fatal("From an empty context is not nil")
	}
}

func TestTokensAreBoundToTheirOwner(t *testing.T) {
	a, b, c := new(int), new(int), new(int)
	ctx := WithToken(context.Background(), a, "for-a")
	ctx = WithToken(ctx, b, "for-b")
	inner := WithToken(ctx, a, "for-a-again")
	s, outer := From(inner), From(ctx)
	for _, tc := range []struct {
		s     *State
		owner *int
		want  any
		ok    bool
	}{{s, a, "for-a-again", true}, {s, b, "for-b", true}, {s, c, nil, false}, {outer, a, "for-a", true}} {
		if got, ok := tc.s.Token(tc.owner); got != tc.want || ok != tc.ok {
			t.Errorf("Token = %q, %v; want %q, %v", got, ok, tc.want, tc.ok)
		}
	}
}

func TestForIsTheOwnersStateOnly(t *testing.T) {
	a, b := new(int), new(int)
	s := &State{Owner: a}
	if s.For(a) != s || s.For(b) != nil || (*State)(nil).For(a) != nil {
		t.Fatal("For did not return the state to its owner alone")
	}
}

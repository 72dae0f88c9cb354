package serverauth

import (
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestAPIKeyValidator(t *testing.T) {
	client := serve(t, NewValidator(APIKey("authorization", "key-1", "key-2"), "/grpc.health.v1.Health/Watch"))
	for _, tc := range []struct {
		auth []string
		code codes.Code
	}{
		{[]string{"key-1"}, codes.OK},
		{[]string{"key-2"}, codes.OK},
		{[]string{"key-3"}, codes.Unauthenticated},
		{[]string{"Bearer key-1"}, codes.Unauthenticated},
		{nil, codes.Unauthenticated},
		{[]string{"key-1", "key-2"}, codes.Unauthenticated},
	} {
		if err := check(client, tc.auth...); status.Code(err) != tc.code {
			t.Errorf("%q: %v, want %v", tc.auth, err, tc.code)
		}
	}
}

// An empty key, listed by mistake (a trailing comma in a key list) or sent by
// a client, admits no one.
func TestAPIKeyNeverAcceptsAnEmptyKey(t *testing.T) {
	for name, keys := range map[string][]string{"listed with others": {"key-1", ""}, "the only one": {""}} {
		client := serve(t, NewValidator(APIKey("x-api-key", keys...)))
		for _, sent := range [][]string{{""}, nil} {
			if err := checkHeader(client, "x-api-key", sent...); status.Code(err) != codes.Unauthenticated {
				t.Errorf("%s, sent %q: %v, want Unauthenticated", name, sent, err)
			}
		}
	}
}

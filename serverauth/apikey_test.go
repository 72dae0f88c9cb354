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

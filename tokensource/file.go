package tokensource

import (
	"context"
	"errors"
	"os"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// File reads an access token from a file, such as a Kubernetes projected
// service-account token, on every call. Wrap it in [Refreshing] so that it is
// read once and then re-read only when the token goes stale:
//
//	ts, err := tokensource.Refreshing(tokensource.File{Path: "/var/run/secrets/tokens/api"})
//
// Surrounding whitespace is trimmed, the token is checked with [Validate], and
// its expiry is taken from its exp claim if it is a JWT.
type File struct {
	Path string
}

// Token reads the file.
func (f File) Token() (*oauth2.Token, error) { return f.TokenContext(context.Background()) }

// TokenContext reads the file. A read failure is Unavailable; unusable content
// is Unauthenticated.
func (f File) TokenContext(context.Context) (*oauth2.Token, error) {
	b, err := os.ReadFile(f.Path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, status.Errorf(codes.Unavailable, "tokensource: reading token file %s: %v", f.Path, err)
	}
	tok := strings.TrimSpace(string(b))
	exp, err := check(tok, time.Now())
	if err != nil {
		return nil, status.Errorf(codes.Unauthenticated, "tokensource: token file %s: invalid token: %v", f.Path, err)
	}
	return &oauth2.Token{AccessToken: tok, TokenType: "Bearer", Expiry: exp}, nil
}

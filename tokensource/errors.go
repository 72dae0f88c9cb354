package tokensource

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ErrClosed is returned by a [Refresher] after Close.
var ErrClosed = status.Error(codes.Unavailable, "grpccreds: token source is closed")

// ErrInvalidToken is wrapped by every token validation error.
var ErrInvalidToken = errors.New("grpccreds: invalid token")

// FetchError is the error a token fetch fails with. Its message names the cause
// (for example "token endpoint answered HTTP 503" or "rejected the credentials:
// invalid_client") but never contains a token, a secret or a response body.
// Code is the gRPC code a caller should see:
//   - Unavailable: the identity provider is unreachable, timed out, or answered
//     5xx, 429 or something unreadable; retrying later may help.
//   - Unauthenticated: the provider rejected the credentials.
//
// The original error stays reachable through errors.As and errors.Unwrap.
type FetchError struct {
	Code       codes.Code
	RetryAfter time.Duration // from a Retry-After header, if the provider sent one
	msg        string
	err        error
}

// Error returns the message, which names the cause without secrets.
func (e *FetchError) Error() string { return "grpccreds: " + e.msg }

// Unwrap returns the underlying error.
func (e *FetchError) Unwrap() error { return e.err }

// GRPCStatus lets status.FromError and gRPC itself see Code.
func (e *FetchError) GRPCStatus() *status.Status { return status.New(e.Code, e.Error()) }

// Classify turns any error from a token source into a *FetchError (or returns
// err unchanged if it already carries a gRPC status). An error that wraps a
// status error (for example with fmt.Errorf and %w) keeps that status's code
// and the RetryAfter of a wrapped *FetchError; its message is quoted,
// truncated to 200 bytes. Classify recognises oauth2.RetrieveError, network
// and URL errors, and timeouts, and builds their messages itself. Any other
// error is quoted, truncated to 200 bytes, as Unavailable: a source of your
// own (a Func) must not put secrets in its errors.
func Classify(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(interface{ GRPCStatus() *status.Status }); ok {
		return err
	}
	if fe := wrappedStatus(err); fe != nil {
		return fe
	}
	var re *oauth2.RetrieveError
	var ue *url.Error
	var ne net.Error
	switch {
	case errors.As(err, &re):
		return classifyRetrieve(re)
	case errors.Is(err, context.DeadlineExceeded):
		return &FetchError{Code: codes.Unavailable, msg: "token request timed out", err: err}
	case errors.Is(err, context.Canceled):
		return &FetchError{Code: codes.Canceled, msg: "token request canceled", err: err}
	case errors.As(err, &ue):
		return &FetchError{Code: codes.Unavailable, msg: fmt.Sprintf("identity provider unreachable: %s %s: %v", ue.Op, redactURL(ue.URL), ue.Err), err: err}
	case errors.As(err, &ne):
		return &FetchError{Code: codes.Unavailable, msg: "identity provider unreachable: " + ne.Error(), err: err}
	}
	return &FetchError{Code: codes.Unavailable, msg: "token source failed: " + truncate(err.Error()), err: err}
}

// wrappedStatus returns a *FetchError with the code of the status error err
// wraps, or nil if it wraps none (or one whose code is OK). The result wraps
// err, and copies RetryAfter from a *FetchError inside err.
func wrappedStatus(err error) *FetchError {
	st, ok := status.FromError(err)
	if !ok || st.Code() == codes.OK {
		return nil
	}
	fe := &FetchError{Code: st.Code(), msg: truncate(err.Error()), err: err}
	var inner *FetchError
	if errors.As(err, &inner) {
		fe.RetryAfter = inner.RetryAfter
	}
	return fe
}

// Rejected builds a FetchError for credentials an identity provider refused.
// reason must not contain secrets.
func Rejected(reason string, err error) *FetchError {
	return &FetchError{Code: codes.Unauthenticated, msg: "identity provider rejected the credentials: " + reason, err: err}
}

// Unavailable builds a FetchError for a provider that could not answer.
// reason must not contain secrets.
func Unavailable(reason string, err error) *FetchError {
	return &FetchError{Code: codes.Unavailable, msg: reason, err: err}
}

var rejectedCodes = map[string]bool{
	"invalid_client": true, "invalid_grant": true, "unauthorized_client": true,
	"access_denied": true, "invalid_scope": true, "invalid_request": true,
}

func classifyRetrieve(re *oauth2.RetrieveError) *FetchError {
	code, ec := 0, safeCode(re.ErrorCode)
	if re.Response != nil {
		code = re.Response.StatusCode
	}
	reason := fmt.Sprintf("token endpoint answered HTTP %d", code)
	if ec != "" {
		reason += " " + ec
	}
	switch {
	case code == http.StatusTooManyRequests || code >= 500:
		fe := Unavailable(reason, re)
		fe.RetryAfter = retryAfter(re.Response)
		return fe
	case rejectedCodes[ec] || code == 400 || code == 401 || code == 403:
		return Rejected(reason, re)
	}
	return Unavailable(reason, re)
}

// safeCode returns an OAuth2 error code if it is a plain identifier.
func safeCode(s string) string {
	if len(s) > 64 {
		return ""
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c == '_') {
			return ""
		}
	}
	return s
}

func retryAfter(r *http.Response) time.Duration {
	if r == nil {
		return 0
	}
	v := r.Header.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return time.Until(t)
	}
	return 0
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Scheme + "://" + u.Host + u.Path
}

func truncate(s string) string {
	const max = 200
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

// CallerError is the status error for a caller whose context ended while it
// waited for a token: DeadlineExceeded or Canceled, with a message that says
// what it was waiting for.
func CallerError(ctx context.Context) error {
	code := status.FromContextError(ctx.Err()).Code()
	return status.Errorf(code, "grpccreds: %v while waiting for a token from the identity provider", ctx.Err())
}

// Package fetcherr is the error of a token fetch: a gRPC code, an optional
// Retry-After, and a message that names the cause without token text,
// secrets or response bodies. The refresh engine and the provider packages
// build and classify fetch errors with it; users see them as status errors.
package fetcherr

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

// Error is the error a token fetch fails with. Its message names the cause
// (for example "token endpoint answered HTTP 503" or "rejected the credentials:
// invalid_client") but never contains a token, a secret or a response body.
// Code is the gRPC code a caller should see:
//   - Unavailable: the identity provider is unreachable, timed out, or answered
//     5xx, 429 or something unreadable; retrying later may help.
//   - Unauthenticated: the provider rejected the credentials.
//
// The original error stays reachable through errors.As and errors.Unwrap.
type Error struct {
	Code       codes.Code
	RetryAfter time.Duration // from a Retry-After header, if the provider sent one
	pkg        string        // the package whose name prefixes the message
	msg        string
	err        error
}

// Error returns the message, which names the cause without secrets, prefixed
// with the name of the package that built it.
func (e *Error) Error() string { return e.pkg + ": " + e.msg }

// Reason returns the message of err without its package prefix if err is an
// *Error, and err's text otherwise, for a message that nests it.
func Reason(err error) string {
	if e, ok := err.(*Error); ok {
		return e.msg
	}
	return err.Error()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.err }

// GRPCStatus lets status.FromError and gRPC itself see Code.
func (e *Error) GRPCStatus() *status.Status { return status.New(e.Code, e.Error()) }

// Classify turns any error from a token source into an *Error (or returns
// err unchanged if it already carries a gRPC status). An error that wraps a
// status error (for example with fmt.Errorf and %w) keeps that status's code
// and the RetryAfter of a wrapped *Error; its message is quoted,
// truncated to 200 bytes. Classify recognises oauth2.RetrieveError, network
// and URL errors, and timeouts, and builds their messages itself. Any other
// error is quoted, truncated to 200 bytes, as Unavailable: a source of your
// own (a Func) must not put secrets in its errors.
func Classify(err error) error { return ClassifyAs("tokensource", err) }

// ClassifyAs is Classify for a source of package pkg: the errors it builds
// are prefixed with pkg's name.
func ClassifyAs(pkg string, err error) error {
	e := classify(err)
	if fe, ok := e.(*Error); ok && e != err {
		fe.pkg = pkg
	}
	return e
}

func classify(err error) error {
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
		return &Error{pkg: "tokensource", Code: codes.Unavailable, msg: "token request timed out", err: err}
	case errors.Is(err, context.Canceled):
		return &Error{pkg: "tokensource", Code: codes.Canceled, msg: "token request canceled", err: err}
	case errors.As(err, &ue):
		return &Error{pkg: "tokensource", Code: codes.Unavailable, msg: fmt.Sprintf("identity provider unreachable: %s %s: %v", ue.Op, redactURL(ue.URL), ue.Err), err: err}
	case errors.As(err, &ne):
		return &Error{pkg: "tokensource", Code: codes.Unavailable, msg: "identity provider unreachable: " + ne.Error(), err: err}
	}
	return &Error{pkg: "tokensource", Code: codes.Unavailable, msg: "token source failed: " + truncate(err.Error()), err: err}
}

// wrappedStatus returns a *Error with the code of the status error err
// wraps, or nil if it wraps none (or one whose code is OK). The result wraps
// err, and copies RetryAfter from a *Error inside err.
func wrappedStatus(err error) *Error {
	st, ok := status.FromError(err)
	if !ok || st.Code() == codes.OK {
		return nil
	}
	fe := &Error{pkg: "tokensource", Code: st.Code(), msg: truncate(err.Error()), err: err}
	var inner *Error
	if errors.As(err, &inner) {
		fe.RetryAfter = inner.RetryAfter
	}
	return fe
}

// Rejected builds an Error of package pkg for credentials an identity
// provider refused. reason must not contain secrets.
func Rejected(pkg, reason string, err error) *Error {
	return &Error{pkg: pkg, Code: codes.Unauthenticated, msg: "identity provider rejected the credentials: " + reason, err: err}
}

// Unavailable builds an Error of package pkg for a provider that could not
// answer. reason must not contain secrets.
func Unavailable(pkg, reason string, err error) *Error {
	return &Error{pkg: pkg, Code: codes.Unavailable, msg: reason, err: err}
}

var rejectedCodes = map[string]bool{
	"invalid_client": true, "invalid_grant": true, "unauthorized_client": true,
	"access_denied": true, "invalid_scope": true, "invalid_request": true,
}

func classifyRetrieve(re *oauth2.RetrieveError) *Error {
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
		fe := Unavailable("tokensource", reason, re)
		fe.RetryAfter = retryAfter(re.Response)
		return fe
	case rejectedCodes[ec] || code == 400 || code == 401 || code == 403:
		return Rejected("tokensource", reason, re)
	}
	return Unavailable("tokensource", reason, re)
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
	return status.Errorf(code, "tokensource: %v while waiting for a token from the identity provider", ctx.Err())
}

package fetcherr

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const secretBody = `{"error":"invalid_client","error_description":"secret-s3cr3t"}`

func retrieveErr(code int, ec string, hdr http.Header) error {
	return &oauth2.RetrieveError{Response: &http.Response{StatusCode: code, Header: hdr}, Body: []byte(secretBody), ErrorCode: ec}
}

func TestClassify(t *testing.T) {
	refused := &url.Error{Op: "Post", URL: "https://idp.test/token?client_secret=s3cr3t", Err: &net.OpError{Op: "dial", Err: errors.New("connection refused")}}
	for _, tc := range []struct {
		name string
		err  error
		code codes.Code
		says string
	}{
		{"500", retrieveErr(500, "", nil), codes.Unavailable, "HTTP 500"},
		{"503", retrieveErr(503, "", nil), codes.Unavailable, "HTTP 503"},
		{"429", retrieveErr(429, "", http.Header{"Retry-After": {"7"}}), codes.Unavailable, "HTTP 429"},
		{"401 invalid_client", retrieveErr(401, "invalid_client", nil), codes.Unauthenticated, "invalid_client"},
		{"400 invalid_grant", retrieveErr(400, "invalid_grant", nil), codes.Unauthenticated, "invalid_grant"},
		{"403", retrieveErr(403, "", nil), codes.Unauthenticated, "HTTP 403"},
		{"404", retrieveErr(404, "", nil), codes.Unavailable, "HTTP 404"},
		{"refused", refused, codes.Unavailable, "connection refused"},
		{"timeout", fmt.Errorf("fetch: %w", context.DeadlineExceeded), codes.Unavailable, "timed out"},
		{"status kept", status.Error(codes.PermissionDenied, "no"), codes.PermissionDenied, "no"},
		{"other", errors.New("boom"), codes.Unavailable, "boom"},
	} {
		err := Classify(tc.err)
		if got := status.Code(err); got != tc.code {
			t.Errorf("%s: code %v, want %v", tc.name, got, tc.code)
		}
		msg := err.Error()
		if !strings.Contains(msg, tc.says) {
			t.Errorf("%s: message %q does not say %q", tc.name, msg, tc.says)
		}
		if strings.Contains(msg, "s3cr3t") {
			t.Errorf("%s: message leaks the body or query: %q", tc.name, msg)
		}
	}
	var fe *Error
	if !errors.As(Classify(retrieveErr(429, "", http.Header{"Retry-After": {"7"}})), &fe) || fe.RetryAfter != 7*time.Second {
		t.Fatalf("Retry-After not read: %+v", fe)
	}
}

// A status error wrapped by fmt.Errorf keeps its code, and the original stays
// reachable.
func TestClassifyWrappedStatus(t *testing.T) {
	inner := status.Error(codes.PermissionDenied, "no key")
	wrapped := fmt.Errorf("signing: %w", inner)
	err := Classify(wrapped)
	if got := status.Code(err); got != codes.PermissionDenied {
		t.Fatalf("code %v (%v), want PermissionDenied", got, err)
	}
	if !errors.Is(err, inner) {
		t.Fatalf("the status error is no longer reachable through %v", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "signing") || !strings.Contains(msg, "no key") {
		t.Fatalf("message %q lost the cause", msg)
	}
}

// A *Error wrapped by fmt.Errorf keeps its code and its Retry-After.
func TestClassifyWrappedErrorKeepsRetryAfter(t *testing.T) {
	inner := Unavailable("tokensource", "identity provider is throttling", nil)
	inner.RetryAfter = 7 * time.Second
	err := Classify(fmt.Errorf("refresh: %w", inner))
	var fe *Error
	if !errors.As(err, &fe) {
		t.Fatalf("%v is not a *Error", err)
	}
	if fe.Code != codes.Unavailable || fe.RetryAfter != 7*time.Second {
		t.Fatalf("code %v RetryAfter %v, want Unavailable and 7s", fe.Code, fe.RetryAfter)
	}
	if !errors.Is(err, inner) {
		t.Fatalf("the inner error is no longer reachable through %v", err)
	}
}

// A direct status error is returned as it is.
func TestClassifyKeepsADirectStatusError(t *testing.T) {
	inner := status.Error(codes.PermissionDenied, "no")
	if err := Classify(inner); err != inner {
		t.Fatalf("Classify(%v) = %v, want it unchanged", inner, err)
	}
}

// ClassifyAs prefixes the errors it builds with the source's package, and
// leaves an error that already carries a status as it is.
func TestClassifyAsNamesThePackage(t *testing.T) {
	err := ClassifyAs("azure", &oauth2.RetrieveError{Response: &http.Response{StatusCode: 401}, ErrorCode: "invalid_client"})
	if status.Code(err) != codes.Unauthenticated || !strings.HasPrefix(err.Error(), "azure: identity provider rejected") {
		t.Fatalf("ClassifyAs: %v", err)
	}
	own := status.Error(codes.Unavailable, "mine")
	if got := ClassifyAs("azure", own); got != own {
		t.Fatalf("a status error was rebuilt: %v", got)
	}
}

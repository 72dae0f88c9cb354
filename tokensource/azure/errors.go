package azure

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"

	msalerrors "github.com/AzureAD/microsoft-authentication-library-for-go/apps/errors"
	"github.com/grpccreds/grpccreds/internal/fetcherr"
	"golang.org/x/oauth2"
	"google.golang.org/grpc/status"
)

// configError is a source's configuration that TokenSource refuses. Its
// reason has no package prefix; Error adds it, and the Default chain quotes
// the reason alone.
type configError struct{ reason string }

func (e *configError) Error() string { return "azure: " + e.reason }

// invalid builds a configError.
func invalid(format string, args ...any) error {
	return &configError{reason: fmt.Sprintf(format, args...)}
}

// reason returns err's message without its package prefix, for a message
// that nests it.
func reason(err error) string {
	if ce, ok := err.(*configError); ok {
		return ce.reason
	}
	return fetcherr.Reason(err)
}

// unavailable builds a fetch error of this package for a passing failure.
// why must hold no secret.
func unavailable(why string, err error) error { return fetcherr.Unavailable("azure", why, err) }

// classifyMSAL turns an MSAL error into a fetch error. An HTTP error is
// classified by its status and the OAuth2 error code in its body, as
// x/oauth2's are; a network failure, timeout or cancellation as it comes.
// MSAL's own messages are never used: they quote response bodies, which may
// hold tokens.
func classifyMSAL(err error) error {
	var ce msalerrors.CallErr
	var je msalerrors.InvalidJsonErr
	switch {
	case errors.As(err, &ce) && ce.Resp != nil:
		return fetcherr.ClassifyAs("azure", &oauth2.RetrieveError{Response: ce.Resp, ErrorCode: oauthErrorCode(ce.Resp)})
	case transport(err):
		return fetcherr.ClassifyAs("azure", err)
	case errors.As(err, &je):
		return unavailable("the token endpoint's answer is not a token response", nil)
	}
	return unavailable(fmt.Sprintf("MSAL could not get a token (%T)", err), nil)
}

// transport reports whether err is a network failure, a timeout, a
// cancellation or an error of our own (a status), whose messages
// fetcherr.Classify builds or keeps without quoting a body.
func transport(err error) bool {
	var ne net.Error
	_, isStatus := status.FromError(err)
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || errors.As(err, &ne) || isStatus
}

// transient reports whether an MSAL error is a passing failure that signing
// in again would not cure: the network, a timeout or cancellation, or an
// HTTP 5xx or 429 answer.
func transient(err error) bool {
	var ce msalerrors.CallErr
	if errors.As(err, &ce) && ce.Resp != nil {
		return ce.Resp.StatusCode >= http.StatusInternalServerError || ce.Resp.StatusCode == http.StatusTooManyRequests
	}
	var ue *url.Error
	var ne net.Error
	return errors.As(err, &ue) || errors.As(err, &ne) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

// oauthErrorCode reads the "error" field of an OAuth2 error body.
func oauthErrorCode(r *http.Response) string {
	if r.Body == nil {
		return ""
	}
	var body struct {
		Error string `json:"error"`
	}
	json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&body)
	return body.Error
}

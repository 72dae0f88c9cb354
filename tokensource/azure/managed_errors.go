package azure

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"

	msalerrors "github.com/AzureAD/microsoft-authentication-library-for-go/apps/errors"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/managedidentity"
	"github.com/grpccreds/grpccreds/internal/fetcherr"
	"google.golang.org/grpc/codes"
)

// sourceNames are the hosts MSAL's managed-identity client can pick, as
// messages name them.
var sourceNames = map[managedidentity.Source]string{
	managedidentity.DefaultToIMDS: "IMDS",
	managedidentity.AppService:    "App Service",
	managedidentity.CloudShell:    "Cloud Shell",
	managedidentity.AzureArc:      "Azure Arc",
	managedidentity.ServiceFabric: "Service Fabric",
	managedidentity.AzureML:       "Azure ML",
}

// sourceName names source for a message.
func sourceName(source managedidentity.Source) string {
	if n, ok := sourceNames[source]; ok {
		return n
	}
	return string(source)
}

// absent is the cause of a managed-identity failure that means no managed
// identity is to be had on this host, though something answered at IMDS's
// address: the Default chain goes on to its next credential (see
// notAvailable). The error it wraps stays reachable; its own text holds
// nothing of the answer.
type absent struct{ err error }

func (a absent) Error() string { return "no managed identity on this host" }
func (a absent) Unwrap() error { return a.err }

// notAvailable reports whether err, from a managed identity, means that
// this host has no managed identity to offer rather than one that failed.
func notAvailable(err error) bool {
	var a absent
	return errors.As(err, &a)
}

// classify turns an MSAL error into a fetch error whose message names the
// managed identity and the host MSAL picked.
func (s *managedSource) classify(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return s.unreachable(oe, err)
	}
	if s.source == managedidentity.DefaultToIMDS {
		if e := s.notIMDS(err); e != nil {
			return e
		}
	}
	return s.named(classifyMSAL(err))
}

// unreachable is the error of an endpoint that could not be connected to.
func (s *managedSource) unreachable(oe *net.OpError, err error) error {
	if s.source == managedidentity.DefaultToIMDS {
		return unavailable("managed identity: IMDS (169.254.169.254) did not answer; this does not look like an Azure host with a managed identity: "+oe.Error(), err)
	}
	return unavailable("managed identity: the "+sourceName(s.source)+" endpoint did not answer: "+oe.Error(), err)
}

// notIMDS recognises the answers at IMDS's address that azidentity v1.15.0
// (managed_identity_client.go, GetToken) takes for "no managed identity
// here", and returns their error, or nil for any other:
//   - an answer that is not JSON: something other than IMDS, such as a
//     proxy's HTML page, answers at its address (azidentity: in a chain
//     only, "unexpected response from IMDS");
//   - HTTP 400 for the system-assigned identity: IMDS on a VM that has none
//     ("Identity not found"); for a user-assigned identity it is a mistake
//     to report, and stops the chain, as in azidentity;
//   - HTTP 403 whose body says "unreachable": Docker Desktop's answer for an
//     address it cannot reach.
//
// Every other answer, a JSON error or a 5xx included, is IMDS failing, and
// stops the chain. Messages never quote the answer.
func (s *managedSource) notIMDS(err error) error {
	var je msalerrors.InvalidJsonErr
	var ce msalerrors.CallErr
	switch {
	case errors.As(err, &je):
		return gone(codes.Unavailable, "managed identity: IMDS: 169.254.169.254 answered, but not with a token response: something other than IMDS (a proxy?) answers at its address; this does not look like an Azure host with a managed identity", err)
	case !errors.As(err, &ce) || ce.Resp == nil:
		return nil
	case ce.Resp.StatusCode == http.StatusBadRequest && !s.userAssigned:
		return gone(codes.Unauthenticated, "managed identity: IMDS answered HTTP 400 for the system-assigned identity (as it does on a host that has none)", err)
	case ce.Resp.StatusCode == http.StatusBadRequest:
		return s.named(fetcherr.Rejected("azure", "the user-assigned identity asked for is not assigned to this host (HTTP 400)", err))
	case ce.Resp.StatusCode == http.StatusForbidden && bytes.Contains(answerBody(ce.Resp), []byte("unreachable")):
		return gone(codes.Unavailable, "managed identity: IMDS: 169.254.169.254 is unreachable, said an HTTP 403 in its place (as Docker Desktop answers); this does not look like an Azure host with a managed identity", err)
	}
	return nil
}

// gone builds the error of a managed identity that is not available.
func gone(code codes.Code, why string, err error) error {
	fe := fetcherr.Unavailable("azure", why, absent{err})
	fe.Code = code
	return fe
}

// named puts the managed identity and its host in front of the message of
// err, a fetch error, keeping its code and Retry-After.
func (s *managedSource) named(err error) error {
	fe, ok := err.(*fetcherr.Error)
	if !ok {
		return err
	}
	out := fetcherr.Unavailable("azure", "managed identity: "+sourceName(s.source)+": "+fetcherr.Reason(fe), fe.Unwrap())
	out.Code, out.RetryAfter = fe.Code, fe.RetryAfter
	return out
}

// probeTimedOut is the error of IMDS when it did not answer within the
// Default chain's probe (see [managedSource.probing]).
func (s *managedSource) probeTimedOut(err error) error {
	why := fmt.Sprintf("managed identity: IMDS (169.254.169.254) did not answer within %v; this does not look like an Azure host with a managed identity", s.probe)
	return fetcherr.Unavailable("azure", why, absent{err})
}

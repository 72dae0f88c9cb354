package azure

import (
	"bytes"
	"io"
	"net/http"
	"sync/atomic"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/managedidentity"
)

// maxAnswer bounds how much of an endpoint's answer is read. A token
// response is a few kilobytes.
const maxAnswer = 1 << 20

// answerClient is the HTTP client MSAL's managed-identity client sends its
// requests through. It keeps each answer's body, which MSAL reads and
// closes, so that an error's body (an OAuth2 error code, Docker Desktop's
// "unreachable") can still be read from MSAL's error; and it notes whether
// any endpoint has answered at all (see [managedSource.probing]).
type answerClient struct {
	c        *http.Client
	answered atomic.Bool
}

// Do sends req and reads the whole answer into memory.
func (a *answerClient) Do(req *http.Request) (*http.Response, error) {
	resp, err := a.c.Do(req)
	if err != nil {
		return nil, err
	}
	a.answered.Store(true)
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = &keptBody{b: b, r: bytes.NewReader(b)}
	return resp, nil
}

// CloseIdleConnections closes the client's idle connections.
func (a *answerClient) CloseIdleConnections() { a.c.CloseIdleConnections() }

// ConfigureClient lets MSAL derive the client it needs (Service Fabric pins
// its endpoint's certificate) from ours; see managedidentity.ClientConfigurer.
func (a *answerClient) ConfigureClient(augment func(*http.Client) (*http.Client, error)) error {
	c, err := augment(a.c)
	if err != nil {
		return err
	}
	a.c = c
	return nil
}

var _ managedidentity.ClientConfigurer = (*answerClient)(nil)

// keptBody is an answer's body held in memory. Close rewinds it, so that
// whoever reads it after MSAL reads it whole.
type keptBody struct {
	b []byte
	r *bytes.Reader
}

func (k *keptBody) Read(p []byte) (int, error) { return k.r.Read(p) }

func (k *keptBody) Close() error {
	k.r.Reset(k.b)
	return nil
}

// answerBody returns the body of an answer that went through an
// answerClient, or nil. It may hold secrets: never put it in a message.
func answerBody(resp *http.Response) []byte {
	if k, ok := resp.Body.(*keptBody); ok {
		return k.b
	}
	return nil
}

package azure_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/grpccredstest/azuretest"
	"github.com/grpccreds/grpccreds/internal/enginetest"
	"github.com/grpccreds/grpccreds/tokensource"
	"github.com/grpccreds/grpccreds/tokensource/azure"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// counter is a device-code prompt that counts how often it ran. The fetch
// that runs it may be one the engine has given up on, hence the atomic.
type counter struct{ n atomic.Int64 }

func (c *counter) prompt(context.Context, azure.DeviceCodePrompt) { c.n.Add(1) }

// A refresh that fails for a passing reason asks for no new device code:
// the fetch is Unavailable and the engine retries it.
func TestDeviceCodeOutagePromptsNoMore(t *testing.T) {
	s := enginetest.Authority(t)
	var prompts counter
	f, opts := enginetest.New(t)
	r := refresher(t, azure.DeviceCode{Client: publicClient(t, s), Scopes: userScopes, Prompt: prompts.prompt}, opts...)
	signInThenOutage(t, s, f, r)
	if prompts.n.Load() != 1 || azuretest.DeviceCodeRequests(s) != 1 {
		t.Fatalf("%d prompts, %d device-code requests; want 1 and 1 (none during the outage)", prompts.n.Load(), azuretest.DeviceCodeRequests(s))
	}
}

// The silent step of a fetch has its own bound, well inside the long fetch
// timeout that leaves a person time to sign in: a token endpoint that
// never answers fails the refresh when that bound passes, Unavailable, and
// asks the user for nothing.
func TestSilentRefreshIsBounded(t *testing.T) {
	defer azure.SetSilentTimeout(300 * time.Millisecond)()
	for _, flow := range []string{"device code", "browser"} {
		t.Run(flow, func(t *testing.T) {
			s := enginetest.Authority(t)
			b := newBrowser(t, s)
			var prompts counter
			f, opts := enginetest.New(t)
			var c config = azure.DeviceCode{Client: publicClient(t, s), Scopes: userScopes, Prompt: prompts.prompt}
			if flow == "browser" {
				c = azure.InteractiveBrowser{Client: publicClient(t, s), Scopes: userScopes, Options: b.login()}
			}
			r := refresher(t, c, opts...)
			if _, _, err := f.Call(r); err != nil {
				t.Fatal(err)
			}
			s.SetMode(grpccredstest.BlackHole)
			invalidate(t, r)
			r.Token()
			if e := f.Outcome(); e.Kind != tokensource.RefreshFailed || status.Code(e.Err) != codes.Unavailable {
				t.Fatalf("refresh against a black hole: %v with %v, want it failed Unavailable", e.Kind, e.Err)
			}
			if signIns := prompts.n.Load() + int64(len(b.Opened())); signIns != 1 {
				t.Fatalf("%d sign-ins, want 1 (none for the refresh)", signIns)
			}
		})
	}
}

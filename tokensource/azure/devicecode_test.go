package azure_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/grpccreds/grpccreds/internal/authority"
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
	r := azure.DeviceCode(publicClient(t, s), userScopes, prompts.prompt, opts...)
	defer r.Close()
	if _, _, err := f.Call(r); err != nil {
		t.Fatal(err)
	}
	s.SetMode(authority.Fail500)
	r.Invalidate(r.Generation())
	r.Token()
	e := f.Outcome()
	if e.Kind != tokensource.RefreshFailed || status.Code(e.Err) != codes.Unavailable {
		t.Fatalf("refresh during a 500 outage: %v with %v, want it failed Unavailable", e.Kind, e.Err)
	}
	s.SetMode(authority.Fail429)
	f.Clock.Advance(e.NextRetry.Sub(f.Clock.Now()))
	if _, e, _ := f.Call(r); e == nil || e.Kind != tokensource.RefreshFailed || status.Code(e.Err) != codes.Unavailable {
		t.Fatalf("retry while throttled: %+v, want it failed Unavailable", e)
	}
	if prompts.n.Load() != 1 || s.DeviceCodeRequests() != 1 {
		t.Fatalf("%d prompts, %d device-code requests; want 1 and 1 (none during the outage)", prompts.n.Load(), s.DeviceCodeRequests())
	}
}

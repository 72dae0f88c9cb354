package azure_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"
	"github.com/grpccreds/grpccreds/internal/engine"
	"github.com/grpccreds/grpccreds/tokensource/azure"
)

// Every source refuses an incomplete configuration in TokenSource, with an
// error that starts "azure: " and quotes no secret.
func TestTokenSourceRefusesIncompleteConfigurations(t *testing.T) {
	t.Setenv("AZURE_TENANT_ID", "")
	t.Setenv("AZURE_CLIENT_ID", "")
	t.Setenv("AZURE_FEDERATED_TOKEN_FILE", "")
	const secret = "refused-secret-marker-5b1"
	scopes := []string{"api://x/.default"}
	assertion := func(context.Context) (string, error) { return "a", nil }
	for name, c := range map[string]config{
		"secret, no tenant":       azure.ClientSecret{ClientID: "c", Secret: secret, Scopes: scopes},
		"secret, no scopes":       azure.ClientSecret{TenantID: "t", ClientID: "c", Secret: secret},
		"secret empty":            azure.ClientSecret{TenantID: "t", ClientID: "c", Scopes: scopes},
		"certificate garbage":     azure.ClientCertificate{TenantID: "t", ClientID: "c", Scopes: scopes, CertificatePEM: []byte(secret), Password: secret},
		"assertion, no function":  azure.ClientAssertion{TenantID: "t", ClientID: "c", Scopes: scopes},
		"assertion, no client":    azure.ClientAssertion{TenantID: "t", Scopes: scopes, Assertion: assertion},
		"workload, no file":       azure.WorkloadIdentity{TenantID: "t", ClientID: "c", Scopes: scopes},
		"confidential, no scopes": azure.Confidential{},
		"device code, no prompt":  azure.DeviceCode{Scopes: scopes},
		"browser, no scopes":      azure.InteractiveBrowser{},
		"confidential, no client": azure.Confidential{Scopes: scopes},
		"device code, no client":  azure.DeviceCode{Scopes: scopes, Prompt: func(context.Context, azure.DeviceCodePrompt) {}},
		"browser, no client":      azure.InteractiveBrowser{Scopes: scopes},
		"managed, two ids":        azure.ManagedIdentity{Scope: scopes[0], ClientID: "a", ObjectID: "b"},
		"managed, no scope":       azure.ManagedIdentity{},
		"az, no scope":            azure.AzureCLI{},
		"azd, odd tenant":         azure.DeveloperCLI{Scope: scopes[0], TenantID: "-x"},
		"default, no scope":       azure.Default{},
	} {
		src, err := c.TokenSource()
		if err == nil || src != nil {
			t.Errorf("%s: accepted (%v)", name, src)
			continue
		}
		if !strings.HasPrefix(err.Error(), "azure: ") || strings.Contains(err.Error(), secret) {
			t.Errorf("%s: %q, want a message starting azure: and quoting no secret", name, err)
		}
	}
}

// The flows in which a person signs in ask the engine for a fetch timeout
// long enough for it.
func TestUserFlowsAskForLongFetchTimeouts(t *testing.T) {
	client, err := public.New("cli-app")
	if err != nil {
		t.Fatal(err)
	}
	scopes := []string{"api://x/.default"}
	for _, tc := range []struct {
		c    config
		want time.Duration
	}{
		{azure.DeviceCode{Client: client, Scopes: scopes, Prompt: func(context.Context, azure.DeviceCodePrompt) {}}, 15 * time.Minute},
		{azure.InteractiveBrowser{Client: client, Scopes: scopes}, 5 * time.Minute},
	} {
		ft, ok := source(t, tc.c).(engine.FetchTimeouter)
		if !ok {
			t.Errorf("%T: its source asks for no fetch timeout, want %v", tc.c, tc.want)
		} else if got := ft.EngineFetchTimeout(); got != tc.want {
			t.Errorf("%T: fetch timeout asked %v, want %v", tc.c, got, tc.want)
		}
	}
}

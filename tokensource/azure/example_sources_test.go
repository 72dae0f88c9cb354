package azure_test

import (
	"context"
	"fmt"
	"os"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"
	"github.com/grpccreds/grpccreds/tokensource/azure"
)

// One chain for a laptop (az login) and for Azure (a managed identity).
func ExampleDefault_TokenSource() {
	ts, err := azure.Default{Scope: "api://energy-trading/.default"}.TokenSource()
	if err != nil {
		panic(err)
	}
	defer ts.Close()
	_ = ts // pass to connection.WithTokenSource
}

// A VM's or an App Service's user-assigned managed identity.
func ExampleManagedIdentity_TokenSource() {
	ts, err := azure.ManagedIdentity{ClientID: "22222222-2222-2222-2222-222222222222",
		Scope: "api://energy-trading/.default"}.TokenSource()
	if err != nil {
		panic(err)
	}
	defer ts.Close()
}

// A developer signed in with `az login`.
func ExampleAzureCLI_TokenSource() {
	ts, err := azure.AzureCLI{Scope: "api://energy-trading/.default"}.TokenSource()
	if err != nil {
		panic(err)
	}
	defer ts.Close()
}

// A developer signed in with `azd auth login`.
func ExampleDeveloperCLI_TokenSource() {
	ts, err := azure.DeveloperCLI{Scope: "api://energy-trading/.default"}.TokenSource()
	if err != nil {
		panic(err)
	}
	defer ts.Close()
}

// A service principal with a certificate (PEM: certificate and RSA key).
func ExampleApp_ClientCertificate() {
	pemData, err := os.ReadFile("/etc/trading-bot/cert.pem")
	if err != nil {
		return
	}
	ts, err := azure.App{TenantID: "00000000-0000-0000-0000-000000000000", ClientID: "11111111-1111-1111-1111-111111111111",
		Scopes: []string{"api://energy-trading/.default"}}.ClientCertificate(pemData, "")
	if err != nil {
		panic(err)
	}
	defer ts.Close()
}

// A service principal that signs in with an assertion from elsewhere, e.g. a
// federated token.
func ExampleApp_ClientAssertion() {
	ts, err := azure.App{TenantID: "00000000-0000-0000-0000-000000000000", ClientID: "11111111-1111-1111-1111-111111111111",
		Scopes: []string{"api://energy-trading/.default"}}.ClientAssertion(func(ctx context.Context) (string, error) {
		return "a-signed-assertion", nil
	})
	if err != nil {
		panic(err)
	}
	defer ts.Close()
}

// Any MSAL confidential client, built with MSAL's own options.
func ExampleFromMSAL() {
	cred, err := confidential.NewCredFromSecret("from-a-secret-store")
	if err != nil {
		panic(err)
	}
	client, err := confidential.New("https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000",
		"11111111-1111-1111-1111-111111111111", cred)
	if err != nil {
		panic(err)
	}
	ts := azure.FromMSAL(client, []string{"api://energy-trading/.default"})
	defer ts.Close()
}

// A CLI acting as its user: a code to enter elsewhere, once.
func ExampleDeviceCode() {
	client, err := public.New("11111111-1111-1111-1111-111111111111",
		public.WithAuthority("https://login.microsoftonline.com/organizations"))
	if err != nil {
		panic(err)
	}
	ts := azure.DeviceCode(client, []string{"api://energy-trading/.default"}, func(_ context.Context, p azure.DeviceCodePrompt) {
		fmt.Println(p.Message)
	})
	defer ts.Close()
}

package azure_test

import (
	"context"
	"fmt"
	"os"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"
	"github.com/grpccreds/grpccreds/connection"
	"github.com/grpccreds/grpccreds/tokensource"
	"github.com/grpccreds/grpccreds/tokensource/azure"
)

// dial is what each example below does with its source: a connection with
// the refresh engine in front of it.
func dial(src tokensource.ContextTokenSource) {
	conn, err := connection.WithTokenSource("trading.example.com:443", nil, src)
	if err != nil {
		panic(err)
	}
	defer conn.Close()
}

// One chain for a laptop (az login) and for Azure (a managed identity).
func ExampleDefault() {
	src, err := azure.Default{Scope: "api://energy-trading/.default"}.TokenSource()
	if err != nil {
		panic(err)
	}
	dial(src)
}

// A VM's or an App Service's user-assigned managed identity.
func ExampleManagedIdentity() {
	src, err := azure.ManagedIdentity{ClientID: "22222222-2222-2222-2222-222222222222",
		Scope: "api://energy-trading/.default"}.TokenSource()
	if err != nil {
		panic(err)
	}
	dial(src)
}

// A developer signed in with `az login`.
func ExampleAzureCLI() {
	src, err := azure.AzureCLI{Scope: "api://energy-trading/.default"}.TokenSource()
	if err != nil {
		panic(err)
	}
	dial(src)
}

// A developer signed in with `azd auth login`.
func ExampleDeveloperCLI() {
	src, err := azure.DeveloperCLI{Scope: "api://energy-trading/.default"}.TokenSource()
	if err != nil {
		panic(err)
	}
	dial(src)
}

// A service principal with a certificate (PEM: certificate and RSA key).
func ExampleClientCertificate() {
	pemData, err := os.ReadFile("/etc/trading-bot/cert.pem")
	if err != nil {
		return
	}
	src, err := azure.ClientCertificate{TenantID: "00000000-0000-0000-0000-000000000000",
		ClientID: "11111111-1111-1111-1111-111111111111", Scopes: []string{"api://energy-trading/.default"},
		CertificatePEM: pemData}.TokenSource()
	if err != nil {
		panic(err)
	}
	dial(src)
}

// A service principal that signs in with an assertion from elsewhere, e.g. a
// federated token.
func ExampleClientAssertion() {
	src, err := azure.ClientAssertion{TenantID: "00000000-0000-0000-0000-000000000000",
		ClientID: "11111111-1111-1111-1111-111111111111", Scopes: []string{"api://energy-trading/.default"},
		Assertion: func(ctx context.Context) (string, error) { return "a-signed-assertion", nil }}.TokenSource()
	if err != nil {
		panic(err)
	}
	dial(src)
}

// Any MSAL confidential client, built with MSAL's own options.
func ExampleConfidential() {
	cred, err := confidential.NewCredFromSecret("from-a-secret-store")
	if err != nil {
		panic(err)
	}
	client, err := confidential.New("https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000",
		"11111111-1111-1111-1111-111111111111", cred)
	if err != nil {
		panic(err)
	}
	src, err := azure.Confidential{Client: client, Scopes: []string{"api://energy-trading/.default"}}.TokenSource()
	if err != nil {
		panic(err)
	}
	dial(src)
}

// A CLI acting as its user: a code to enter elsewhere, once.
func ExampleDeviceCode() {
	client, err := public.New("11111111-1111-1111-1111-111111111111",
		public.WithAuthority("https://login.microsoftonline.com/organizations"))
	if err != nil {
		panic(err)
	}
	src, err := azure.DeviceCode{Client: client, Scopes: []string{"api://energy-trading/.default"},
		Prompt: func(_ context.Context, p azure.DeviceCodePrompt) { fmt.Println(p.Message) }}.TokenSource()
	if err != nil {
		panic(err)
	}
	dial(src)
}

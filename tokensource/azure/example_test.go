package azure_test

import "github.com/grpccreds/grpccreds/tokensource/azure"

// Azure AD app-only tokens through MSAL, behind the refresh engine.
func ExampleApp_ClientSecret() {
	ts, err := azure.App{
		TenantID: "00000000-0000-0000-0000-000000000000",
		ClientID: "11111111-1111-1111-1111-111111111111",
		Scopes:   []string{"api://energy-trading/.default"},
	}.ClientSecret("from-a-secret-store")
	if err != nil {
		panic(err)
	}
	defer ts.Close()
	_ = ts // pass to connection.WithTokenSource or creds.NewBearer
}

// Kubernetes workload identity: the tenant, client and federated token file
// come from the environment the Azure webhook injects.
func ExampleApp_WorkloadIdentity() {
	ts, err := azure.App{Scopes: []string{"api://energy-trading/.default"}}.WorkloadIdentity()
	if err != nil {
		return // not running under workload identity
	}
	defer ts.Close()
}

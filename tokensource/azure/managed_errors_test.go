package azure

import (
	"strings"
	"testing"

	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/grpccredstest/azuretest"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// A managed identity's failure says it was the managed identity, and which
// host's mechanism MSAL picked, never quoting the host's secrets.
func TestManagedIdentityErrorsNameTheSource(t *testing.T) {
	for _, tc := range []struct {
		name, says string
		env        map[string]string
	}{
		{"IMDS", "managed identity: IMDS", nil},
		{"App Service", "managed identity: App Service", map[string]string{"IDENTITY_HEADER": azuretest.AppServiceHeader}},
		{"Cloud Shell", "managed identity: Cloud Shell", map[string]string{}},
		{"Azure ML", "managed identity: Azure ML", map[string]string{"MSI_SECRET": azuretest.AzureMLSecret}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, l := managedHost(t)
			switch {
			case tc.env == nil:
			case tc.env["IDENTITY_HEADER"] != "":
				t.Setenv("IDENTITY_ENDPOINT", azuretest.ManagedIdentityBase(s)+"/msi/token")
			default:
				t.Setenv("MSI_ENDPOINT", azuretest.ManagedIdentityBase(s)+"/msi/token")
			}
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			s.SetMode(grpccredstest.Fail500)
			_, err := managed(t, ManagedIdentity{}, l).Token()
			msg := err.Error()
			t.Logf("%v", err)
			if status.Code(err) != codes.Unavailable || !strings.HasPrefix(msg, "azure: ") || !strings.Contains(msg, tc.says) || !strings.Contains(msg, "HTTP 500") {
				t.Fatalf("%v; want Unavailable saying %q and HTTP 500", err, tc.says)
			}
			for _, secret := range []string{azuretest.AppServiceHeader, azuretest.AzureMLSecret, "AADSTS50000"} {
				if strings.Contains(msg, secret) {
					t.Fatalf("the error quotes %q: %v", secret, err)
				}
			}
		})
	}
}

package azure_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/grpccreds/grpccreds/tokensource/azure"
)

// A configuration printed in any form shows who it is for, never its secret,
// key or password.
func TestConfigurationsPrintNoSecret(t *testing.T) {
	const secret = "cfg-secret-marker-3d1e"
	for _, v := range []any{
		azure.ClientSecret{TenantID: "t", ClientID: "c", Secret: secret},
		&azure.ClientSecret{TenantID: "t", ClientID: "c", Secret: secret},
		azure.ClientCertificate{TenantID: "t", ClientID: "c", CertificatePEM: []byte(secret), Password: secret},
		[]azure.ClientSecret{{Secret: secret}},
	} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			if out := fmt.Sprintf(verb, v); strings.Contains(out, secret) || !strings.Contains(out, "redacted") {
				t.Errorf("%T with %s: %s", v, verb, out)
			}
		}
	}
}

package azuretest_test

import (
	"errors"
	"net/http"
	"syscall"
	"testing"

	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/grpccredstest/azuretest"
)

// The managed-identity endpoints hand tokens to registered identities only,
// to callers with the host's secret, and go down with the identity provider.
func TestManagedIdentity(t *testing.T) {
	idp := grpccredstest.NewIdentityProvider(t, "tenant-1", "api://test")
	azuretest.AddManagedIdentity(idp, azuretest.ManagedIdentity{Identity: grpccredstest.Identity{Name: "vm", OID: "o-vm"}})
	hc := &http.Client{}
	t.Cleanup(hc.CloseIdleConnections)
	get := func(path string, header ...string) (int, error) {
		req, _ := http.NewRequest(http.MethodGet, azuretest.ManagedIdentityBase(idp)+path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := hc.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	const imds = "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=api://test"
	for _, c := range []struct {
		name, path string
		header     []string
		want       int
	}{
		{"IMDS", imds, []string{"Metadata", "true"}, 200},
		{"IMDS without Metadata", imds, nil, 400},
		{"IMDS, unknown identity", imds + "&client_id=nobody", []string{"Metadata", "true"}, 400},
		{"App Service", "/msi/token?api-version=2019-08-01&resource=api://test", []string{"X-IDENTITY-HEADER", azuretest.AppServiceHeader}, 200},
		{"App Service, wrong header", "/msi/token?api-version=2019-08-01&resource=api://test", []string{"X-IDENTITY-HEADER", "wrong"}, 401},
		{"Azure ML", "/msi/token?api-version=2017-09-01&resource=api://test", []string{"secret", azuretest.AzureMLSecret}, 200},
	} {
		if code, err := get(c.path, c.header...); code != c.want || err != nil {
			t.Errorf("%s: %d, %v; want %d", c.name, code, err, c.want)
		}
	}
	if n := azuretest.ManagedIdentityRequests(idp); n != 6 {
		t.Errorf("managed-identity requests = %d, want 6", n)
	}
	idp.SetMode(grpccredstest.Down)
	if _, err := get(imds, "Metadata", "true"); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("down: %v, want connection refused", err)
	}
	idp.SetMode(grpccredstest.Healthy)
	if code, err := get(imds, "Metadata", "true"); code != 200 || err != nil {
		t.Fatalf("back up: %d, %v", code, err)
	}
}

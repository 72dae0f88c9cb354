package azure

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/grpccredstest/azuretest"
)

// When one credential ends the chain, the error names that one first, and
// the credentials before it apart from it.
func TestDefaultStoppedNamesTheCredentialThatStoppedIt(t *testing.T) {
	t.Run("managed identity answers 500", func(t *testing.T) {
		h := newChainHost(t, true)
		t.Setenv("IDENTITY_ENDPOINT", azuretest.ManagedIdentityBase(h.s)+"/msi/token")
		t.Setenv("IDENTITY_HEADER", azuretest.AppServiceHeader)
		h.s.SetMode(grpccredstest.Fail500)
		h.cli(t, "az", azOut)
		_, err := h.token(t)
		wantStoppedAt(t, err, ManagedIdentityCredential, EnvironmentCredential+": skipped", WorkloadIdentityCredential+": skipped")
	})
	t.Run("federated token rejected", func(t *testing.T) {
		h := newChainHost(t, true)
		h.app(t)
		file := filepath.Join(t.TempDir(), "federated")
		os.WriteFile(file, []byte("eyJhbGciOiJSUzI1NiJ9.federated-marker.sig"), 0o600)
		t.Setenv("AZURE_FEDERATED_TOKEN_FILE", file)
		h.s.SetMode(grpccredstest.InvalidClient)
		h.cli(t, "az", azOut)
		_, err := h.token(t)
		wantStoppedAt(t, err, WorkloadIdentityCredential, EnvironmentCredential+": skipped")
		if strings.Contains(err.Error(), "federated-marker") {
			t.Fatalf("the error quotes the federated token: %v", err)
		}
	})
}

// wantStoppedAt checks that err says the chain stopped at name, and names
// the credentials before it after that.
func wantStoppedAt(t *testing.T, err error, name string, before ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("a token; want the chain to stop at %s", name)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "azure: Default stopped at "+name+": ") || strings.Count(msg, "stopped at") != 1 {
		t.Fatalf("%q; want it to begin \"azure: Default stopped at %s: \" and say \"stopped at\" once", msg, name)
	}
	_, rest, ok := strings.Cut(msg, " (before it: ")
	for _, b := range before {
		if !ok || !strings.Contains(rest, b) {
			t.Errorf("%q; want %q after \"(before it: \"", msg, b)
		}
	}
}

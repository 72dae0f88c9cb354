package suite

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Only the Azure package links MSAL: a server that verifies JWTs, or a client
// with any other token source, does not.
func TestOnlyTheAzurePackageLinksMSAL(t *testing.T) {
	const msal = "github.com/AzureAD/microsoft-authentication-library-for-go"
	for _, pkg := range []string{"tokensource", "creds", "creds/jwtauth", "connection", "composite", "grpccredstest"} {
		out, err := exec.Command("go", "list", "-deps", "github.com/grpccreds/grpccreds/"+pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		if strings.Contains(string(out), msal) {
			t.Errorf("%s links MSAL", pkg)
		}
	}
	out, err := exec.Command("go", "list", "-deps", "github.com/grpccreds/grpccreds/tokensource/azure").Output()
	if err != nil || !strings.Contains(string(out), msal) {
		t.Fatalf("go list -deps tokensource/azure: %v; MSAL not found, so the check above proves nothing", err)
	}
}

// Every example imports only public packages, so that a user can copy it into
// a module of their own and run it.
func TestExamplesImportNoInternalPackage(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}: {{join .Imports \" \"}}", "github.com/grpccreds/grpccreds/examples/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 5 {
		t.Fatalf("go list found %d examples, want at least 5:\n%s", len(lines), out)
	}
	for _, l := range lines {
		if strings.Contains(l, "grpccreds/internal/") {
			t.Errorf("an example imports an internal package: %s", l)
		}
	}
}

// The OpenTelemetry adapter is a module of its own (otelgrpccreds), so the
// grpccreds module neither requires nor links OpenTelemetry.
func TestCoreModuleHasNoOpenTelemetry(t *testing.T) {
	const otel = "go.opentelemetry.io"
	gomod, err := exec.Command("go", "list", "-m", "-f", "{{.GoMod}}", "github.com/grpccreds/grpccreds").Output()
	if err != nil {
		t.Fatalf("go list -m: %v", err)
	}
	text, err := os.ReadFile(strings.TrimSpace(string(gomod)))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(text), otel) {
		t.Errorf("go.mod requires %s", otel)
	}
	deps, err := exec.Command("go", "list", "-deps", "-test", "github.com/grpccreds/grpccreds/...").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	if strings.Contains(string(deps), otel) {
		t.Errorf("a package of the grpccreds module links %s", otel)
	}
}

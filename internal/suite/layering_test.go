package suite

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/grpccreds/grpccreds/"

// deps lists the packages pkg links (go list -deps), outside the standard
// library.
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", module+pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

// linksAny returns the first of pkg's dependencies that starts with one of
// prefixes.
func linksAny(t *testing.T, pkg string, prefixes ...string) string {
	for _, d := range deps(t, pkg) {
		for _, p := range prefixes {
			if d == p || strings.HasPrefix(d, p+"/") {
				return d
			}
		}
	}
	return ""
}

// Only the Azure packages link MSAL: a server that verifies JWTs, or a client
// with any other token source, does not.
func TestOnlyTheAzurePackageLinksMSAL(t *testing.T) {
	const msal = "github.com/AzureAD/microsoft-authentication-library-for-go"
	for _, pkg := range []string{"tokensource", "creds", "serverauth", "serverauth/azure", "claims", "connection", "composite", "grpccredstest"} {
		if d := linksAny(t, pkg, msal); d != "" {
			t.Errorf("%s links MSAL (%s)", pkg, d)
		}
	}
	if linksAny(t, "tokensource/azure", msal) == "" {
		t.Fatal("tokensource/azure does not link MSAL, so the check above proves nothing")
	}
}

// The server half stands alone: serverauth links no client package, no
// x/oauth2 and no refresh engine, and claims is a leaf that links nothing
// outside the standard library.
func TestServerHalfIsIndependentOfTheClientHalf(t *testing.T) {
	client := []string{module + "tokensource", module + "creds", module + "connection", module + "composite",
		module + "internal/engine", module + "internal/fetcherr", "golang.org/x/oauth2"}
	for _, pkg := range []string{"serverauth", "serverauth/azure"} {
		if d := linksAny(t, pkg, client...); d != "" {
			t.Errorf("%s links %s", pkg, d)
		}
	}
	if d := deps(t, "claims"); len(d) != 1 || d[0] != module+"claims" {
		t.Errorf("claims links %v, want nothing outside the standard library", d)
	}
}

// Dependencies point one way: creds (call credentials) and composite (channel
// credentials and their composition) do not import each other's side upward,
// and nothing but the examples imports connection.
func TestDependenciesPointOneWay(t *testing.T) {
	for pkg, forbidden := range map[string][]string{
		"creds":       {module + "connection", module + "composite", module + "serverauth"},
		"composite":   {module + "connection", module + "serverauth", module + "tokensource"},
		"tokensource": {module + "creds", module + "composite", module + "connection", module + "serverauth"},
		"serverauth":  {module + "grpccredstest"},
	} {
		if d := linksAny(t, pkg, forbidden...); d != "" {
			t.Errorf("%s links %s", pkg, d)
		}
	}
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}: {{join .Imports \" \"}}", module+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if strings.Contains(l, " "+module+"connection") && !strings.HasPrefix(l, module+"examples/") {
			t.Errorf("only examples may import connection: %s", l)
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

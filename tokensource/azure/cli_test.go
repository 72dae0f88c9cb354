package azure_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/internal/enginetest"

	"github.com/grpccreds/grpccreds/tokensource"
	"github.com/grpccreds/grpccreds/tokensource/azure"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// fakeCLI writes an executable script called name into a fresh directory at
// the front of PATH. The script records its arguments, one per line, in the
// file it returns, and then runs body.
func fakeCLI(t *testing.T, name, body string) (argsFile string) {
	t.Helper()
	dir := t.TempDir()
	argsFile = filepath.Join(dir, "args")
	script := "#!/bin/sh\nprintf '%s\\n' \"$@\" > '" + argsFile + "'\n" + body + "\n"
	if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return argsFile
}

func args(t *testing.T, file string) []string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

func TestAzureCLI(t *testing.T) {
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	file := fakeCLI(t, "az", `echo '{"accessToken": "az-token-1", "expiresOn": "2000-01-01 00:00:00.000000", "expires_on": `+
		strconv.FormatInt(exp.Unix(), 10)+`, "tokenType": "Bearer"}'`)
	r := refresher(t, azure.AzureCLI{Scope: "api://energy-trading/.default", TenantID: "contoso.onmicrosoft.com"})
	tok, err := r.Token()
	if err != nil || tok.AccessToken != "az-token-1" || tok.Expiry.Sub(exp).Abs() > time.Second {
		t.Fatalf("token %+v, %v; want az-token-1 expiring at %v", tok, err, exp)
	}
	want := "account get-access-token --output json --scope api://energy-trading/.default --tenant contoso.onmicrosoft.com"
	if got := strings.Join(args(t, file), " "); got != want {
		t.Fatalf("az ran with %q, want %q", got, want)
	}
}

func TestDeveloperCLI(t *testing.T) {
	exp := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	file := fakeCLI(t, "azd", `echo '{"token": "azd-token-1", "expiresOn": "`+exp.Format(time.RFC3339)+`"}'`)
	r := refresher(t, azure.DeveloperCLI{Scope: "api://energy-trading/.default", TenantID: "t-1"})
	tok, err := r.Token()
	if err != nil || tok.AccessToken != "azd-token-1" || tok.Expiry.Sub(exp).Abs() > time.Second {
		t.Fatalf("token %+v, %v; want azd-token-1 expiring at %v", tok, err, exp)
	}
	// --no-prompt, as azidentity passes since 1.12.0: azd can otherwise wait
	// for input (with AZD_DEBUG set, say) until the timeout.
	if got := strings.Join(args(t, file), " "); got != "auth token --output json --no-prompt --scope api://energy-trading/.default --tenant-id t-1" {
		t.Fatalf("azd ran with %q", got)
	}
}

// Each failure has its code and a message that names the fix, and nothing
// the CLI printed reaches the error.
func TestCLIFailures(t *testing.T) {
	const leak = "eyJ0eXAi.secret-marker-77c1.sig"
	for _, tc := range []struct {
		name, tool, body string
		timeout          time.Duration
		code             codes.Code
		says             string
	}{
		{"az not signed in", "az", `echo "ERROR: Please run 'az login' to setup account. ` + leak + `" >&2; exit 1`, 0, codes.Unauthenticated, "run `az login`"},
		{"azd not signed in", "azd", "echo 'ERROR: not logged in, run `azd auth login` to login " + leak + "' >&2; exit 1", 0, codes.Unauthenticated, "run `azd auth login`"},
		{"az fails", "az", `echo "AADSTS50076: client_secret=` + leak + `" >&2; exit 2`, 0, codes.Unavailable, "exit status 2"},
		{"az prints garbage", "az", `echo '<html>` + leak + `</html>'`, 0, codes.Unavailable, "printed no usable token"},
		{"az hangs", "az", `exec sleep 30`, 300 * time.Millisecond, codes.Unavailable, "did not answer within 300ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fakeCLI(t, tc.tool, tc.body)
			r := cliSource(t, tc.tool, tc.timeout)
			began := time.Now()
			_, err := r.Token()
			if status.Code(err) != tc.code || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("%v, want %v saying %q", err, tc.code, tc.says)
			}
			if strings.Contains(err.Error(), "secret-marker") {
				t.Fatalf("the error quotes the CLI's output: %v", err)
			}
			if took := time.Since(began); took > 10*time.Second {
				t.Fatalf("took %v", took)
			}
		})
	}
}

// cliSource is the engine in front of az or azd, as tool says.
func cliSource(t *testing.T, tool string, timeout time.Duration) *tokensource.Refresher {
	t.Helper()
	c := azure.AzureCLI{Scope: "api://x/.default", Timeout: timeout}
	if tool == "azd" {
		return refresher(t, azure.DeveloperCLI(c))
	}
	return refresher(t, c)
}

func TestCLINotInstalled(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	for tool, name := range map[string]string{"az": "Azure CLI (az)", "azd": "Azure Developer CLI (azd)"} {
		_, err := cliSource(t, tool, 0).Token()
		if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), name+" is not installed") {
			t.Errorf("%s missing: %v", tool, err)
		}
	}
}

// Scopes and tenants go to the CLI as arguments; anything but the characters
// they are made of is refused before a process starts.
func TestCLIRefusesOddScopesAndTenants(t *testing.T) {
	file := fakeCLI(t, "az", "exit 1")
	for _, c := range []azure.AzureCLI{{Scope: ""}, {Scope: "api://x/.default; rm -rf /"}, {Scope: "--help"},
		{Scope: "api://x/.default", TenantID: "t --debug"}, {Scope: "api://x/.default", TenantID: "-t"}, {Scope: "api://x/.default\n"}} {
		if _, err := c.TokenSource(); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	if _, err := os.Stat(file); err == nil {
		t.Fatal("az ran")
	}
}

// 1000 cold callers cost one run of the CLI.
func TestCLIColdCrowdCausesOneRun(t *testing.T) {
	dir := t.TempDir()
	runs := filepath.Join(dir, "runs")
	fakeCLI(t, "az", `echo run >> '`+runs+`'; echo '{"accessToken": "az-token", "expires_on": 4102444800}'`)
	r := cliSource(t, "az", 0)
	ok := enginetest.ColdCrowd(r, 1000)
	b, _ := os.ReadFile(runs)
	if n := strings.Count(string(b), "run"); ok != 1000 || n != 1 {
		t.Fatalf("%d callers served with %d runs of az, want 1000 with 1", ok, n)
	}
}

// On a timeout the CLI's whole process group goes, not just the script:
// az is a shell script that starts Python.
func TestCLITimeoutKillsTheProcessGroup(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	pidFile := filepath.Join(t.TempDir(), "pid")
	fakeCLI(t, "az", `sleep 30 & echo $! > '`+pidFile+`'; wait`)
	_, err := cliSource(t, "az", 300*time.Millisecond).Token()
	if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "did not answer") {
		t.Fatalf("%v, want the timeout", err)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	stat := "/proc/" + strings.TrimSpace(string(b)) + "/stat"
	for range 100 { // up to 5 s for the kernel to finish it off
		s, err := os.ReadFile(stat)
		if err != nil || strings.Contains(string(s), ") Z ") {
			return // gone, or a zombie waiting to be reaped
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the CLI's child process outlived the timeout")
}

// A CLI found only through a relative PATH entry is refused, and the error
// says why.
func TestCLIRelativePathIsRefused(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "az"), []byte("#!/bin/sh\necho '{}'\n"), 0o755)
	t.Chdir(dir)
	t.Setenv("PATH", ".")
	_, err := cliSource(t, "az", 0).Token()
	if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "relative PATH entry") {
		t.Fatalf("%v, want a refusal naming the relative PATH entry", err)
	}
}

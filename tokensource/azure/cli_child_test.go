package azure_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Real az starts a telemetry upload that outlives it and keeps its standard
// output open (azure-sdk-for-go#24685). The CLI itself exited 0 after
// printing its token, so that token is used, after the runner's short wait
// for the pipe, as azidentity does.
func TestCLIChildHoldingStdoutKeepsTheToken(t *testing.T) {
	for tool, out := range map[string]string{
		"az":  `{"accessToken": "az-token", "expires_on": 4102444800}`,
		"azd": `{"token": "azd-token", "expiresOn": "2100-01-01T00:00:00Z"}`,
	} {
		t.Run(tool, func(t *testing.T) {
			pidFile := filepath.Join(t.TempDir(), "pid")
			fakeCLI(t, tool, "echo '"+out+"'\nsleep 20 &\necho $! > '"+pidFile+"'\nexit 0")
			t.Cleanup(func() { endProcess(t, pidFile) })
			began := time.Now()
			tok, err := cliSource(t, tool, 0).Token()
			if err != nil || tok.AccessToken != tool+"-token" {
				t.Fatalf("%v, %v; want %s's token although its child holds stdout open", tok, err, tool)
			}
			if took := time.Since(began); took > 5*time.Second {
				t.Fatalf("took %v; the wait for the pipe is 1 s", took)
			}
		})
	}
}

// endProcess kills the process whose id is in file: the child the fake CLI
// left behind, which the runner leaves to finish as az's telemetry upload
// would.
func endProcess(t *testing.T, file string) {
	b, err := os.ReadFile(file)
	if err != nil {
		t.Errorf("no pid of the CLI's child: %v", err)
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Errorf("pid %q: %v", b, err)
		return
	}
	if p, err := os.FindProcess(pid); err == nil {
		p.Kill()
		p.Release()
	}
}

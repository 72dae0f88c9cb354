package azure

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/grpccreds/grpccreds/internal/fetcherr"
	"github.com/grpccreds/grpccreds/tokensource"
	"golang.org/x/oauth2"
)

// defaultCLITimeout bounds one run of a CLI: starting Python (az) or
// refreshing a token can take a few seconds.
const defaultCLITimeout = 10 * time.Second

// AzureCLI gets tokens from the Azure CLI, as the developer signed in with
// `az login`: it runs `az account get-access-token --output json --scope
// SCOPE [--tenant TENANT]` for each fetch.
//
// The CLI keeps its own token cache and hands out a new token only about 5
// minutes before the current one expires. Each token says so to the
// refresh engine, which asks for the next one 4 minutes before expiry and
// not earlier: one run per token lifetime, and no warning about a caching
// source (see tokensource.Refreshing).
type AzureCLI struct {
	// Scope is the one scope to get tokens for, e.g.
	// "api://energy-trading/.default".
	Scope string
	// TenantID, if set, asks for a token from that tenant.
	TenantID string
	// Timeout bounds each run of the CLI (default 10 seconds).
	Timeout time.Duration
}

// TokenSource checks the scope and tenant and returns the source, which runs
// az for each fetch. A missing az is reported by the first fetch, as Unavailable
// naming the tool; a CLI that is not signed in, as Unauthenticated saying to
// run `az login`. Nothing az writes to stderr is copied into an error, since
// it may quote a token or a secret.
func (c AzureCLI) TokenSource() (tokensource.ContextTokenSource, error) {
	return c.runner().source(c.Scope, c.TenantID)
}

func (c AzureCLI) runner() cliRunner {
	args := []string{"account", "get-access-token", "--output", "json", "--scope", c.Scope}
	if c.TenantID != "" {
		args = append(args, "--tenant", c.TenantID)
	}
	return cliRunner{tool: "Azure CLI (az)", name: "az", login: "az login", args: args, timeout: c.Timeout, parse: parseAz}
}

// DeveloperCLI gets tokens from the Azure Developer CLI, as the developer
// signed in with `azd auth login`: it runs `azd auth token --output json
// --no-prompt --scope SCOPE [--tenant-id TENANT]` for each fetch
// (--no-prompt, as azidentity passes it: azd may otherwise wait for input).
// Its fields mean what AzureCLI's do.
type DeveloperCLI AzureCLI

// TokenSource is [AzureCLI.TokenSource] for azd; its sign-in hint is
// `azd auth login`.
func (c DeveloperCLI) TokenSource() (tokensource.ContextTokenSource, error) {
	return c.runner().source(c.Scope, c.TenantID)
}

func (c DeveloperCLI) runner() cliRunner {
	args := []string{"auth", "token", "--output", "json", "--no-prompt", "--scope", c.Scope}
	if c.TenantID != "" {
		args = append(args, "--tenant-id", c.TenantID)
	}
	return cliRunner{tool: "Azure Developer CLI (azd)", name: "azd", login: "azd auth login", args: args, timeout: c.Timeout, parse: parseAzd}
}

// cliRunner is the source of AzureCLI and DeveloperCLI: it runs one CLI,
// with no shell, and reads its token.
type cliRunner struct {
	tool, name, login string
	args              []string
	timeout           time.Duration
	parse             func([]byte) (string, time.Time, error)
}

// source checks the scope and tenant and returns r as a source.
func (r cliRunner) source(scope, tenant string) (tokensource.ContextTokenSource, error) {
	if !validScope(scope) {
		return nil, invalid("%s: scope %q is empty, starts with -, or has characters other than letters, digits and . - _ : /", r.tool, scope)
	}
	if tenant != "" && !validTenant(tenant) {
		return nil, invalid("%s: tenant %q starts with - or has characters other than letters, digits, . and -", r.tool, tenant)
	}
	if r.timeout <= 0 {
		r.timeout = defaultCLITimeout
	}
	return r, nil
}

func (r cliRunner) Token() (*oauth2.Token, error) { return r.TokenContext(context.Background()) }

// TokenContext runs the CLI and reads its token.
func (r cliRunner) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	out, err := r.run(ctx)
	if err != nil {
		return nil, err
	}
	access, expires, err := r.parse(out)
	if err != nil {
		return nil, unavailable(r.tool+" printed no usable token: "+err.Error(), nil)
	}
	return cachedToken(ctx, access, expires, time.Time{}), nil
}

// run runs the CLI and returns its standard output, or a classified error.
func (r cliRunner) run(parent context.Context) ([]byte, error) {
	ctx, cancel := context.WithTimeout(parent, r.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.name, r.args...)
	killGroup(cmd)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &limited{buf: &stdout}, &limited{buf: &stderr}
	cmd.WaitDelay = time.Second // do not wait on pipes held open by the CLI's children
	err := cmd.Run()
	if leftChildren(cmd, err) {
		err = nil
	}
	switch {
	case errors.Is(err, exec.ErrNotFound):
		return nil, unavailable(r.tool+" is not installed (no "+r.name+" on PATH)", nil)
	case errors.Is(err, exec.ErrDot):
		return nil, unavailable(r.tool+" was found only through a relative PATH entry, which is refused; put its directory on PATH as an absolute path", nil)
	case err != nil && parent.Err() != nil:
		return nil, fetcherr.ClassifyAs("azure", parent.Err())
	case err != nil && ctx.Err() != nil:
		return nil, unavailable(fmt.Sprintf("%s did not answer within %v", r.tool, r.timeout), nil)
	case err != nil && notSignedIn(stderr.String()):
		return nil, fetcherr.Rejected("azure", r.tool+" is not signed in: run `"+r.login+"`", nil)
	case err != nil:
		return nil, unavailable(fmt.Sprintf("%s failed (%v); run `%s %s` to see why", r.tool, exitStatus(err), r.name, strings.Join(r.args, " ")), nil)
	}
	return stdout.Bytes(), nil
}

// leftChildren reports whether the CLI exited 0 while a process it started
// still held its output open when WaitDelay ran out: real az leaves a
// telemetry upload running (azure-sdk-for-go#24685). What the CLI printed
// is then complete, since it exited; azidentity uses it too. The child is
// left to finish; only a timeout or cancellation kills the process group.
func leftChildren(cmd *exec.Cmd, err error) bool {
	return errors.Is(err, exec.ErrWaitDelay) && cmd.ProcessState != nil && cmd.ProcessState.Success()
}

// notSignedIn recognises the CLIs' "sign in first" messages.
func notSignedIn(stderr string) bool {
	s := strings.ToLower(stderr)
	return strings.Contains(s, "az login") || strings.Contains(s, "azd auth login") || strings.Contains(s, "not logged in")
}

func exitStatus(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return "exit status " + strconv.Itoa(ee.ExitCode())
	}
	return "could not run it"
}

// parseAz reads az's accessToken and expires_on (Unix seconds; older
// versions only print expiresOn, a local time).
func parseAz(out []byte) (string, time.Time, error) {
	var v struct {
		AccessToken string `json:"accessToken"`
		ExpiresOn   string `json:"expiresOn"`
		Unix        *int64 `json:"expires_on"`
	}
	if err := json.Unmarshal(out, &v); err != nil || v.AccessToken == "" {
		return "", time.Time{}, errors.New("no accessToken in its JSON")
	}
	if v.Unix != nil {
		return v.AccessToken, time.Unix(*v.Unix, 0), nil
	}
	t, err := time.ParseInLocation("2006-01-02 15:04:05.999999", v.ExpiresOn, time.Local)
	if err != nil {
		return "", time.Time{}, errors.New("no expires_on or expiresOn in its JSON")
	}
	return v.AccessToken, t, nil
}

// parseAzd reads azd's token and expiresOn (RFC 3339).
func parseAzd(out []byte) (string, time.Time, error) {
	var v struct {
		Token     string    `json:"token"`
		ExpiresOn time.Time `json:"expiresOn"`
	}
	if err := json.Unmarshal(out, &v); err != nil || v.Token == "" || v.ExpiresOn.IsZero() {
		return "", time.Time{}, errors.New("no token and expiresOn in its JSON")
	}
	return v.Token, v.ExpiresOn, nil
}

// validScope and validTenant accept what scopes and tenants are made of, and
// nothing a CLI could take for an option.
func validScope(s string) bool {
	return s != "" && !strings.HasPrefix(s, "-") && allowed(s, ".-_:/")
}

func validTenant(s string) bool { return !strings.HasPrefix(s, "-") && allowed(s, ".-") }

func allowed(s, punct string) bool {
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(punct, r)
		if !ok {
			return false
		}
	}
	return true
}

// limited keeps the first 1 MiB written to it, so a runaway CLI cannot
// exhaust memory.
type limited struct{ buf *bytes.Buffer }

func (l *limited) Write(p []byte) (int, error) {
	if room := 1<<20 - l.buf.Len(); room > 0 {
		l.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

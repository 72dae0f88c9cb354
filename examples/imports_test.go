package examples_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// goCmd runs the go command in dir and returns its standard output.
func goCmd(t *testing.T, dir string, env []string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

// TestMainsImportNoTestKit: the mains are what users copy, so they may import
// only public, non-test packages (their tests may use the kit).
func TestMainsImportNoTestKit(t *testing.T) {
	out := goCmd(t, "..", nil, "list", "-f", `{{.ImportPath}} {{.Name}} {{join .Imports " "}}`, "./examples/...")
	mains := 0
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		if len(f) < 2 || f[1] != "main" {
			continue
		}
		mains++
		for _, imp := range f[2:] {
			if strings.HasSuffix(imp, "/grpccredstest") || strings.Contains(imp, "/grpccredstest/") || strings.Contains(imp, "/internal/") {
				t.Errorf("%s imports %s", f[0], imp)
			}
		}
	}
	if mains < 9 {
		t.Errorf("found %d main packages under examples/, want 9 (five clients, four servers):\n%s", mains, out)
	}
}

// TestCopiedIntoAModule copies every example main into a module of its own
// that requires grpccreds (replaced by this checkout) and builds it there, as
// a user who copies them would. go mod tidy may need the module proxy for
// modules this checkout's cache lacks, so -short skips it.
func TestCopiedIntoAModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a scratch module; may reach the module proxy")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	mains, err := filepath.Glob("*/*/main.go")
	if err != nil || len(mains) == 0 {
		t.Fatalf("no mains found: %v", err)
	}
	dir := t.TempDir()
	for _, m := range mains {
		src, err := os.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, m)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	goVersion := "go 1.26.0"
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(gomod)) {
		if strings.HasPrefix(line, "go ") {
			goVersion = strings.TrimSpace(line)
		}
	}
	mod := "module example.com/copied\n\n" + goVersion + "\n\nrequire github.com/grpccreds/grpccreds v0.0.0\n\n" +
		"replace github.com/grpccreds/grpccreds => " + root + "\n"
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"go.mod": []byte(mod), "go.sum": sum} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{"GOFLAGS=" + strings.TrimSpace(os.Getenv("GOFLAGS")+" -mod=mod"), "GOWORK=off"}
	goCmd(t, dir, env, "mod", "tidy")
	goCmd(t, dir, env, "build", "./...")
	goCmd(t, dir, env, "vet", "./...")
	t.Logf("built and vetted %d mains in %s", len(mains), dir)
}

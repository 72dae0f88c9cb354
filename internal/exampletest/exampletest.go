// Package exampletest runs the programs of examples/ as a user would, for
// their tests: it builds a main package with go build, starts a server and
// reads the address it prints, runs a client under a deadline, and captures
// every line either prints (stdout and stderr together).
//
// Every process it starts is killed, and its output drained, before the test
// ends, and every wait is bounded by Timeout. Under go test -v each line is
// echoed as it arrives, prefixed with the program's name, so a test reads as a
// transcript; otherwise the lines are logged only if the test fails.
package exampletest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// Timeout bounds every wait: a build, a client run, a line, a stop.
const Timeout = 60 * time.Second

// Program is a built main package.
type Program struct {
	Name string   // shown before its lines, e.g. "server"
	Path string   // the binary
	Env  []string // added to the test's environment, KEY=value
}

// Main runs an example package's tests (call it from TestMain): it removes
// the binaries Build made and fails the run if goroutines outlive the tests.
func Main(m *testing.M) {
	code := m.Run()
	builds.Lock()
	if builds.dir != "" {
		_ = os.RemoveAll(builds.dir)
	}
	builds.Unlock()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// builds caches the binaries of one test process, so that its tests build
// each main once. Main removes them.
var builds struct {
	sync.Mutex
	dir  string
	bins map[string]string
}

// Build compiles the main package pkg (a path as go build takes it, relative
// to the test's directory, e.g. "./server"), once per test process.
func Build(t testing.TB, name, pkg string) Program {
	t.Helper()
	builds.Lock()
	defer builds.Unlock()
	if bin, ok := builds.bins[pkg]; ok {
		return Program{Name: name, Path: bin}
	}
	if builds.dir == "" {
		dir, err := os.MkdirTemp("", "exampletest-")
		if err != nil {
			t.Fatal(err)
		}
		builds.dir, builds.bins = dir, map[string]string{}
	}
	bin := filepath.Join(builds.dir, fmt.Sprintf("%d-%s", len(builds.bins), filepath.Base(pkg)))
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	builds.bins[pkg] = bin
	return Program{Name: name, Path: bin}
}

// With returns a copy of p whose processes also get env (KEY=value pairs).
func (p Program) With(env ...string) Program {
	p.Env = append(append([]string(nil), p.Env...), env...)
	return p
}

// Result is how a process ended and what it printed.
type Result struct {
	Code  int // exit code; -1 if it was killed by a signal
	Lines []string
}

// Output is every line, joined.
func (r Result) Output() string { return strings.Join(r.Lines, "\n") }

// Has reports whether a line contains s.
func (r Result) Has(s string) bool {
	for _, l := range r.Lines {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

// Run runs p with args to the end (at most Timeout) and returns its result.
func (p Program) Run(t testing.TB, args ...string) Result {
	t.Helper()
	return p.Start(t, args...).Wait(t)
}

// Proc is a running program. Its methods take the calling test, which may be
// a subtest of the one that started it: a failure stops the caller.
type Proc struct {
	name string
	cmd  *exec.Cmd

	mu      sync.Mutex
	lines   []string
	changed chan struct{} // closed and replaced when a line arrives
	cursor  int           // WaitFor searches from here

	done chan struct{} // closed once the output is drained and the process reaped
	code int
}

// Start starts p with args. The process is killed when the test ends, if it
// has not ended by then.
func (p Program) Start(t testing.TB, args ...string) *Proc {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(p.Path, args...)
	cmd.Env = append(os.Environ(), p.Env...)
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		t.Fatalf("start %s: %v", p.Name, err)
	}
	w.Close() // the child holds its own copy; EOF comes when it exits
	pr := &Proc{name: p.Name, cmd: cmd, changed: make(chan struct{}), done: make(chan struct{})}
	echo := testing.Verbose()
	go func() {
		defer close(pr.done)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			if echo {
				fmt.Printf("    %-7s| %s\n", p.Name, sc.Text())
			}
			pr.mu.Lock()
			pr.lines = append(pr.lines, sc.Text())
			close(pr.changed)
			pr.changed = make(chan struct{})
			pr.mu.Unlock()
		}
		r.Close()
		err := cmd.Wait()
		code := 0
		var exit *exec.ExitError
		switch {
		case err == nil:
		case errors.As(err, &exit):
			code = exit.ExitCode()
		default:
			code = -1
		}
		pr.mu.Lock()
		pr.code = code
		pr.mu.Unlock()
	}()
	t.Cleanup(func() {
		select {
		case <-pr.done:
		default:
			_ = cmd.Process.Kill()
			<-pr.done
		}
		if t.Failed() && !echo {
			t.Logf("%s printed:\n%s", p.Name, pr.result().Output())
		}
	})
	return pr
}

func (p *Proc) result() Result {
	p.mu.Lock()
	defer p.mu.Unlock()
	return Result{Code: p.code, Lines: append([]string(nil), p.lines...)}
}

// WaitFor waits for a line containing s, after the line the previous WaitFor
// matched, and returns it. It fails the test if the process ends first or
// Timeout passes.
func (p *Proc) WaitFor(t testing.TB, s string) string {
	t.Helper()
	deadline := time.NewTimer(Timeout)
	defer deadline.Stop()
	for {
		p.mu.Lock()
		for i := p.cursor; i < len(p.lines); i++ {
			if strings.Contains(p.lines[i], s) {
				p.cursor = i + 1
				line := p.lines[i]
				p.mu.Unlock()
				return line
			}
		}
		changed := p.changed
		p.mu.Unlock()
		select {
		case <-changed:
		case <-p.done:
			if p.has(s) {
				continue
			}
			t.Fatalf("%s ended (exit %d) before printing %q", p.name, p.result().Code, s)
		case <-deadline.C:
			t.Fatalf("%s did not print %q within %v", p.name, s, Timeout)
		}
	}
}

func (p *Proc) has(s string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.lines[p.cursor:] {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

// Addr waits for the server's "listening on HOST:PORT" line and returns
// HOST:PORT.
func (p *Proc) Addr(t testing.TB) string {
	t.Helper()
	line := p.WaitFor(t, "listening on ")
	return strings.TrimSpace(line[strings.Index(line, "listening on ")+len("listening on "):])
}

// Signal sends sig to the process.
func (p *Proc) Signal(t testing.TB, sig os.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %s: %v", p.name, err)
	}
}

// Stop sends SIGTERM and waits for the process to end.
func (p *Proc) Stop(t testing.TB) Result {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("signal %s: %v", p.name, err)
	}
	return p.Wait(t)
}

// Wait waits for the process to end, at most Timeout (then it is killed and
// the test fails), and returns its result.
func (p *Proc) Wait(t testing.TB) Result {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(Timeout):
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("%s still running after %v; killed it", p.name, Timeout)
	}
	return p.result()
}

// WriteFile writes data to a new file in a temporary directory and returns
// its path.
func WriteFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Say prints a line of narration: echoed under go test -v, logged otherwise.
func Say(t testing.TB, format string, args ...any) {
	t.Helper()
	if testing.Verbose() {
		fmt.Printf("--- "+format+"\n", args...)
		return
	}
	t.Logf(format, args...)
}

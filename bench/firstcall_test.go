package bench

import (
	"bytes"
	"io"
	"net"
	"runtime"
	"testing"
	"time"
)

// settled fails the test unless the goroutines started since before have
// ended within 10 seconds.
func settled(t *testing.T, before int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); runtime.NumGoroutine() > before; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines left running, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
	}
}

func echoServer(t *testing.T) net.Listener {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	return lis
}

// An echo through the proxy carries the bytes unchanged and takes at least
// two round trips (the handshake and the echo); Close ends a connection
// still open and leaves nothing running.
func TestDelayProxy(t *testing.T) {
	lis := echoServer(t)
	before := runtime.NumGoroutine()
	const rtt = 40 * time.Millisecond
	p, err := NewDelayProxy(lis.Addr().String(), rtt)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	c, err := net.Dial("tcp", p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	msg := bytes.Repeat([]byte("round trip "), 10000)
	go c.Write(msg)
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("echo: %v, equal %v", err, bytes.Equal(got, msg))
	}
	if took := time.Since(start); took < 2*rtt {
		t.Fatalf("echo took %v, less than two round trips of %v", took, rtt)
	}
	p.Close()
	if _, err := c.Read(got); err == nil {
		t.Fatal("the connection is still open after Close")
	}
	c.Close()
	lis.Close()
	settled(t, before)
}

// The first-call table measures every variant in every round.
func TestFirstCall(t *testing.T) {
	before := runtime.NumGoroutine()
	res := FirstCall(RTTs{Server: 10 * time.Millisecond, IdP: 20 * time.Millisecond}, FirstCallLibs, 2)
	for name, s := range map[string]Samples{"connect": res.Connect, "rpc": res.RPC, "fetch": res.Fetch} {
		if len(s) != 2 || s.Min() <= 0 {
			t.Fatalf("%s: %v, want 2 positive samples", name, s)
		}
	}
	for _, l := range FirstCallLibs {
		if s := res.Libs[l.Name]; len(s) != 2 || s.Min() <= 0 {
			t.Fatalf("%s: %v, want 2 positive samples", l.Name, s)
		}
	}
	if res.Bound() < res.Fetch.Median() {
		t.Fatalf("bound %.1f below the fetch %.1f", res.Bound(), res.Fetch.Median())
	}
	settled(t, before)
}

package bench

import (
	"net"
	"sync"
	"time"
)

// DelayProxy is a TCP proxy on 127.0.0.1 that adds a round trip to a
// connection: it delays the bytes of each direction by half of it, and the
// client's first bytes by a further round trip, the TCP handshake the
// loopback dial skipped. A connection holds at most 64 reads of 32 KiB in
// flight per direction.
type DelayProxy struct {
	Addr   string // where to connect, 127.0.0.1:port
	target string
	rtt    time.Duration
	lis    net.Listener

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// NewDelayProxy listens on 127.0.0.1 and forwards each connection to target
// with the round trip rtt.
func NewDelayProxy(target string, rtt time.Duration) (*DelayProxy, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &DelayProxy{Addr: lis.Addr().String(), target: target, rtt: rtt, lis: lis, conns: map[net.Conn]struct{}{}}
	p.wg.Go(p.serve)
	return p, nil
}

// Close stops listening, closes every connection and waits for the proxy's
// goroutines.
func (p *DelayProxy) Close() error {
	err := p.lis.Close()
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	return err
}

func (p *DelayProxy) serve() {
	for {
		c, err := p.lis.Accept()
		if err != nil {
			return
		}
		ready := time.Now().Add(p.rtt)
		up, err := net.Dial("tcp", p.target)
		if err != nil || !p.track(c, up) {
			c.Close()
			if up != nil {
				up.Close()
			}
			continue
		}
		p.wg.Go(func() { p.relay(c, up, ready) })
	}
}

// track records c and up for Close; false if the proxy is closed.
func (p *DelayProxy) track(c, up net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	return true
}

// relay copies both ways until both directions end, then closes both.
func (p *DelayProxy) relay(c, up net.Conn, ready time.Time) {
	var wg sync.WaitGroup
	wg.Go(func() { p.pipe(up, c, ready) })
	wg.Go(func() { p.pipe(c, up, time.Time{}) })
	wg.Wait()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
	c.Close()
	up.Close()
}

type chunk struct {
	b  []byte
	at time.Time
}

// pipe copies src to dst, each read delivered half a round trip after it
// arrived, and not before notBefore plus half a round trip.
func (p *DelayProxy) pipe(dst, src net.Conn, notBefore time.Time) {
	ch := make(chan chunk, 64)
	go read(src, ch, p.rtt/2, notBefore)
	broken := false
	for c := range ch {
		if broken {
			continue // drain what read still sends
		}
		time.Sleep(time.Until(c.at))
		if _, err := dst.Write(c.b); err != nil {
			broken = true
			src.Close() // unblocks read, which then closes ch
			dst.Close()
		}
	}
	if tc, ok := dst.(*net.TCPConn); ok {
		tc.CloseWrite()
	}
}

// read sends what src yields to ch, stamped with its delivery time, and
// closes ch at the end of src.
func read(src net.Conn, ch chan<- chunk, d time.Duration, notBefore time.Time) {
	defer close(ch)
	for {
		buf := make([]byte, 32<<10)
		n, err := src.Read(buf)
		if n > 0 {
			at := time.Now()
			if at.Before(notBefore) {
				at = notBefore
			}
			ch <- chunk{buf[:n], at.Add(d)}
		}
		if err != nil {
			return
		}
	}
}

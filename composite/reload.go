package composite

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/credentials/tls/certprovider"
)

// providerTimeout bounds one call of a provider's KeyMaterial.
const providerTimeout = 10 * time.Second

// reloader reads files or a provider again on a schedule, and early when
// asked (an expired certificate seen at handshake time).
type reloader struct {
	kick     chan struct{}
	lastKick atomic.Int64
	cancel   context.CancelFunc
	done     chan struct{}
	once     sync.Once
}

func startReloader(r *rotator) *reloader {
	ctx, cancel := context.WithCancel(context.Background())
	rl := &reloader{kick: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{})}
	go rl.run(ctx, r)
	return rl
}

func (rl *reloader) run(ctx context.Context, r *rotator) {
	defer close(rl.done)
	t := time.NewTicker(r.s.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-rl.kick:
		}
		r.reload(ctx)
	}
}

// nudge asks for a reload now, at most once a second.
func (rl *reloader) nudge() {
	now := time.Now().UnixNano()
	last := rl.lastKick.Load()
	if now-last < int64(time.Second) || !rl.lastKick.CompareAndSwap(last, now) {
		return
	}
	select {
	case rl.kick <- struct{}{}:
	default:
	}
}

func (rl *reloader) stop() {
	rl.once.Do(rl.cancel)
	<-rl.done
}

// What the reloads have seen, so that unchanged input is not parsed again and
// a refusal is reported once, not on every tick. Guarded by rotator.mu.
type seen struct {
	applied [sha256.Size]byte // the input last applied
	refused string            // the input and error last refused
}

// reload reads everything that can change again.
func (r *rotator) reload(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if in := r.s.cert; in != nil && in.certFile != "" {
		r.reloadPair(in)
	}
	if in := r.s.roots; in != nil && in.file != "" {
		r.reloadRoots(in)
	}
	if r.s.provider != nil {
		r.reloadProvided(ctx)
	}
}

func (r *rotator) reloadPair(in *pairInput) {
	b, sum, err := readFiles(in.certFile, in.keyFile)
	if err == nil && sum == r.certSeen.applied {
		r.certSeen.refused = "" // back to good: a new failure is reported again
		return
	}
	var cert *tls.Certificate
	if err == nil {
		cert, err = parsePair(b[0], b[1], r.s.usage(), r.now())
	}
	if err != nil {
		if r.certSeen.once(sum, err) {
			r.setCert(cert, in.origin(), err)
		}
		return
	}
	r.certSeen = seen{applied: sum}
	r.setCert(cert, in.origin(), nil)
}

func (r *rotator) reloadRoots(in *rootsInput) {
	b, sum, err := readFiles(in.file)
	if err == nil && sum == r.rootsSeen.applied {
		r.rootsSeen.refused = ""
		return
	}
	var rs *roots
	if err == nil {
		rs, err = parseRoots(b[0], r.now())
	}
	if err != nil {
		if r.rootsSeen.once(sum, err) {
			r.setRoots(nil, in.file, err)
		}
		return
	}
	r.rootsSeen = seen{applied: sum}
	r.setRoots(rs, in.file, nil)
}

// once reports whether this refusal differs from the last one reported.
func (s *seen) once(sum [sha256.Size]byte, err error) bool {
	key := string(sum[:]) + err.Error()
	if key == s.refused {
		return false
	}
	s.refused = key
	return true
}

func (in *pairInput) origin() string { return in.certFile + " + " + in.keyFile }

// readPair reads a certificate and key from memory or files and checks them.
func (r *rotator) readPair(in *pairInput) (*tls.Certificate, string, error) {
	if in.certFile == "" {
		cert, err := parsePair(in.certPEM, in.keyPEM, r.s.usage(), r.now())
		return cert, "construction", err
	}
	b, sum, err := readFiles(in.certFile, in.keyFile)
	if err != nil {
		return nil, in.origin(), err
	}
	cert, err := parsePair(b[0], b[1], r.s.usage(), r.now())
	r.certSeen.applied = sum
	return cert, in.origin(), err
}

// readRoots reads roots from memory or a file and checks them.
func (r *rotator) readRoots(in *rootsInput) (*roots, string, error) {
	if in.file == "" {
		rs, err := parseRoots(in.pem, r.now())
		return rs, "construction", err
	}
	b, sum, err := readFiles(in.file)
	if err != nil {
		return nil, in.file, err
	}
	rs, err := parseRoots(b[0], r.now())
	r.rootsSeen.applied = sum
	return rs, in.file, err
}

// readFiles reads files and sums their contents together.
func readFiles(paths ...string) ([][]byte, [sha256.Size]byte, error) {
	h := sha256.New()
	var out [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, [sha256.Size]byte{}, err
		}
		out = append(out, b)
		h.Write(b)
		h.Write([]byte{0})
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return out, sum, nil
}

// reloadProvided asks the provider again, and applies what changed.
func (r *rotator) reloadProvided(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, providerTimeout)
	defer cancel()
	km, err := r.s.provider.KeyMaterial(ctx)
	if err != nil {
		if ctx.Err() == nil && r.provSeen.once([sha256.Size]byte{}, err) {
			r.emit(TLSEvent{Kind: CertificateRefused, Origin: "provider", Err: err})
		}
		return
	}
	cur := r.cur.Load()
	if sameCert(cur.cert, km) && sameRoots(cur.roots, km) {
		r.provSeen = seen{}
		return
	}
	cert, rs, err := r.checkProvided(km)
	if err != nil {
		if r.provSeen.once(sumProvided(km), err) {
			r.emit(certEvent(CertificateRefused, "provider", cert, err))
		}
		return
	}
	r.provSeen = seen{}
	next := *cur
	next.cert, next.roots = cert, rs
	r.install(&next)
	if !sameCert(cur.cert, km) && cert != nil {
		r.emit(certEvent(CertificateApplied, "provider", cert, nil))
	}
	if !sameRoots(cur.roots, km) && rs != nil {
		r.emit(TLSEvent{Kind: RootsApplied, Origin: "provider"})
	}
}

// checkProvided checks what a provider returned, as files are checked.
func (r *rotator) checkProvided(km *certprovider.KeyMaterial) (*tls.Certificate, *roots, error) {
	if km == nil {
		return nil, nil, errors.New("the provider returned no key material")
	}
	if km.SPIFFEBundleMap != nil {
		return nil, nil, errors.New("SPIFFE bundle maps are not supported; return Roots")
	}
	var cert *tls.Certificate
	if len(km.Certs) > 0 {
		c := km.Certs[0]
		if err := checkLeaf(&c, r.s.usage(), r.now()); err != nil {
			return &c, nil, err
		}
		cert = &c
	}
	if r.s.server && cert == nil {
		return nil, nil, errors.New("the provider returned no certificate, which a server needs")
	}
	var rs *roots
	if km.Roots != nil {
		rs = &roots{pool: km.Roots}
	}
	if cur := r.cur.Load(); cur != nil && ((cur.roots != nil && rs == nil) || (cur.cert != nil && cert == nil)) {
		// Dropping roots would fall back to the system roots (a client) or
		// stop requiring client certificates (a server).
		return cert, nil, errors.New("the provider stopped returning the certificate or roots it returned before")
	}
	return cert, rs, nil
}

func providedEvents(cert *tls.Certificate, rs *roots, err error) []TLSEvent {
	var events []TLSEvent
	if cert != nil {
		events = append(events, certEvent(CertificateApplied, "provider", cert, err))
	}
	if rs != nil {
		events = append(events, TLSEvent{Kind: RootsApplied, Origin: "provider"})
	}
	return events
}

func sameCert(cur *tls.Certificate, km *certprovider.KeyMaterial) bool {
	if len(km.Certs) == 0 || cur == nil {
		return len(km.Certs) == 0 && cur == nil
	}
	a, b := cur.Certificate, km.Certs[0].Certificate
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

func sameRoots(cur *roots, km *certprovider.KeyMaterial) bool {
	if cur == nil || km.Roots == nil {
		return cur == nil && km.Roots == nil
	}
	return cur.pool.Equal(km.Roots)
}

// sumProvided identifies refused provider material by its leaf.
func sumProvided(km *certprovider.KeyMaterial) [sha256.Size]byte {
	if len(km.Certs) == 0 || len(km.Certs[0].Certificate) == 0 {
		return [sha256.Size]byte{}
	}
	return sha256.Sum256(km.Certs[0].Certificate[0])
}

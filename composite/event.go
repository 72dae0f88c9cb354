package composite

import (
	"fmt"
	"time"
)

// TLSEvent reports TLS material that was applied or refused: at construction,
// by an Update method, or when files or a provider changed (see
// [WithReload]). It never carries key material.
type TLSEvent struct {
	Kind TLSEventKind
	// Origin says where the material came from: "construction", "update",
	// "provider", or the file names it was read from.
	Origin string
	// Serial is the certificate's serial number in hex (certificate events),
	// the refused certificate's when it could be parsed.
	Serial string
	// NotAfter is when the applied certificate expires, or, for roots, when
	// the last of them does.
	NotAfter time.Time
	// Err says why material was refused; nil when it was applied.
	Err error
}

// TLSEventKind is what a [TLSEvent] reports.
type TLSEventKind int

// The kinds of [TLSEvent]. On a server, the roots are the certificate
// authorities its clients' certificates must chain to.
const (
	CertificateApplied TLSEventKind = iota + 1
	CertificateRefused
	RootsApplied
	RootsRefused
)

// String names the kind, for logs.
func (k TLSEventKind) String() string {
	switch k {
	case CertificateApplied:
		return "certificate applied"
	case CertificateRefused:
		return "certificate refused"
	case RootsApplied:
		return "roots applied"
	case RootsRefused:
		return "roots refused"
	}
	return fmt.Sprintf("TLSEventKind(%d)", int(k))
}

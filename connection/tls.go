package connection

import (
	"errors"
	"log/slog"

	"github.com/grpccreds/grpccreds/composite"
)

var errNoTLS = errors.New("connection: the connection does not use TLS")

// UpdateClientCertificate replaces the client certificate (mTLS) presented
// by the connection's new TLS handshakes, as UpdateAccessToken replaces the
// token: certPEM (optionally with its chain) and keyPEM are checked first (a
// matching pair, valid now, for client authentication), and on error the
// previous certificate stays. Connections already open keep the handshake
// they made; gRPC makes new ones when it reconnects, or when the server ends
// old ones. It works on any TLS connection, whether or not it was made with a
// certificate. If certificate files are read again (see [WithTLSOptions]), a
// later change of the files replaces this certificate in turn.
func (c *Connection) UpdateClientCertificate(certPEM, keyPEM []byte) error {
	if c.tls == nil {
		return errNoTLS
	}
	return c.tls.UpdateCertificate(certPEM, keyPEM)
}

// UpdateRootCAs replaces the certificate authorities the connection's new
// TLS handshakes verify the server against, checked first as rootPEM is at
// construction; on error the previous roots stay. To follow a server moving
// to a new CA without a failed handshake, give a bundle of the old and the
// new CA until the move is over, then the new one alone. Verification is
// never skipped: chain, name, validity and key usage are checked by
// crypto/tls on every handshake.
func (c *Connection) UpdateRootCAs(rootPEM []byte) error {
	if c.tls == nil {
		return errNoTLS
	}
	return c.tls.UpdateRoots(rootPEM)
}

// logTLS logs changes of TLS material: never key material, which events do
// not carry.
func logTLS(l *slog.Logger) func(composite.TLSEvent) {
	return func(e composite.TLSEvent) {
		args := []any{"origin", e.Origin}
		if e.Serial != "" {
			args = append(args, "serial", e.Serial)
		}
		if !e.NotAfter.IsZero() {
			args = append(args, "not_after", e.NotAfter)
		}
		if e.Err != nil {
			l.Warn("connection: TLS "+e.Kind.String()+"; the previous material stays", append(args, "error", e.Err)...)
			return
		}
		l.Info("connection: TLS "+e.Kind.String(), args...)
	}
}

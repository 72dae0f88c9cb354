// Package header checks metadata keys and values before they reach the wire,
// so that no credential can smuggle a second header or break HTTP/2 framing.
package header

import (
	"errors"
	"fmt"
	"strings"
)

// ErrEmpty reports an empty value.
var ErrEmpty = errors.New("is empty")

// CheckValue reports whether s can be sent as a credential header value: visible
// ASCII only, no spaces, no control characters. The error names the position of
// the first bad byte, never the value itself.
func CheckValue(s string) error {
	if s == "" {
		return ErrEmpty
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 0x80:
			return fmt.Errorf("contains a non-ASCII byte at offset %d", i)
		case c == ' ':
			return fmt.Errorf("contains a space at offset %d", i)
		case c < 0x20 || c == 0x7f:
			return fmt.Errorf("contains a control character (CR, LF, tab or similar) at offset %d", i)
		}
	}
	return nil
}

// CheckText reports whether s can be sent as an ordinary (non-binary) metadata
// value: printable ASCII, spaces allowed, no control characters.
func CheckText(s string) error {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return fmt.Errorf("contains a non-printable or non-ASCII byte at offset %d", i)
		}
	}
	return nil
}

// CheckKey reports whether k is a legal, lowercase gRPC metadata key that a
// credential may set. Reserved keys (pseudo-headers, "grpc-" and transport
// headers) are refused.
func CheckKey(k string) error {
	if k == "" {
		return errors.New("metadata key is empty")
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Errorf("metadata key %q must be lowercase letters, digits, '-', '_' or '.'", k)
		}
	}
	if strings.HasPrefix(k, "grpc-") || reserved[k] {
		return fmt.Errorf("metadata key %q is reserved", k)
	}
	return nil
}

// IsBinary reports whether values of key k are binary ("-bin" suffix), which
// gRPC base64-encodes on the wire.
func IsBinary(k string) bool { return strings.HasSuffix(k, "-bin") }

var reserved = map[string]bool{
	"content-type": true, "user-agent": true, "te": true, "host": true,
	"connection": true, "transfer-encoding": true, "upgrade": true,
}

package azure

import "fmt"

// String describes the configuration without its secret.
func (c ClientSecret) String() string {
	return fmt.Sprintf("azure.ClientSecret{TenantID: %q, ClientID: %q, Scopes: %q, Secret: %s}",
		c.TenantID, c.ClientID, c.Scopes, redacted(c.Secret != ""))
}

// GoString is String, so %#v cannot print the secret either.
func (c ClientSecret) GoString() string { return c.String() }

// String describes the configuration without its key or password.
func (c ClientCertificate) String() string {
	return fmt.Sprintf("azure.ClientCertificate{TenantID: %q, ClientID: %q, Scopes: %q, CertificatePEM: %s, Password: %s}",
		c.TenantID, c.ClientID, c.Scopes, redacted(len(c.CertificatePEM) > 0), redacted(c.Password != ""))
}

// GoString is String, so %#v cannot print the key either.
func (c ClientCertificate) GoString() string { return c.String() }

func redacted(set bool) string {
	if set {
		return "(redacted)"
	}
	return "(empty)"
}

// Package connection is what most users hold: a gRPC channel with its
// credentials, dialled once, whose access token can be swapped at runtime
// without redialing.
//
//	conn, err := connection.WithExternalAccessToken("api.example.com:443", caPEM, token)
//	client := pb.NewThingClient(conn)      // *Connection implements grpc.ClientConnInterface
//	err = conn.UpdateAccessToken(newToken) // same channel, no redial
//
// The token is validated before it is used, swapped atomically and tracked
// until it expires. [WithTokenSource] instead keeps a refreshing source (OAuth2
// client credentials, Azure AD, a token file) fresh in the background.
//
// A connection with a token of its own ([WithExternalAccessToken],
// [WithTokenSource]) starts connecting when it is made, and
// [WithTokenSource] starts its first token fetch then too, so the first call
// pays for the slower of the two, not both; [WithLazyStart] waits for the
// first call instead, and a source that signs a person in, or that takes no
// context, is not asked early. If that early connection attempt fails (the
// server is not up yet), the first call still gets an attempt of its own, as
// with a lazy connection. WithTLS and Insecure connect at the first call.
//
// gRPC sends metadata once, when a call or stream starts: after a token swap,
// new calls and new streams carry the new token, while a stream that is
// already open keeps the one it started with.
//
// The TLS half changes at runtime too: UpdateClientCertificate and
// UpdateRootCAs swap the client certificate and the roots, checked first and
// atomically, and WithTLSOptions reads certificate and root files again while
// the connection runs (see composite.TLSCredentials). New handshakes use the
// new material; connections already open keep the handshake they made.
package connection

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
// gRPC sends metadata once, when a call or stream starts: after a token swap,
// new calls and new streams carry the new token, while a stream that is
// already open keeps the one it started with.
package connection

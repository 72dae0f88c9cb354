package main

import (
	"context"
	"crypto/rsa"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// verifier is the server's check, as an energy-trading API does it: an RS256
// signature from the authority's key, exp/nbf with a small leeway, issuer,
// audience, and the name and oid claims.
func verifier(pub *rsa.PublicKey, issuer, audience string) grpc.UnaryServerInterceptor {
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(issuer),
		jwt.WithAudience(audience), jwt.WithExpirationRequired(), jwt.WithLeeway(time.Second))
	keyFunc := func(*jwt.Token) (any, error) { return pub, nil }
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		md, _ := metadata.FromIncomingContext(ctx)
		auth := md.Get("authorization")
		if len(auth) != 1 || !strings.HasPrefix(auth[0], "Bearer ") {
			return nil, status.Error(codes.Unauthenticated, "missing bearer token")
		}
		claims := jwt.MapClaims{}
		if _, err := parser.ParseWithClaims(strings.TrimPrefix(auth[0], "Bearer "), claims, keyFunc); err != nil {
			fmt.Printf("  server: refused %s: %v\n", info.FullMethod, err)
			return nil, status.Errorf(codes.Unauthenticated, "invalid token: %v", err)
		}
		name, _ := claims["name"].(string)
		oid, _ := claims["oid"].(string)
		if name == "" || oid == "" {
			return nil, status.Error(codes.Unauthenticated, "token lacks name or oid")
		}
		fmt.Printf("  server: %s by %q (token %v)\n", info.FullMethod, name, claims["jti"])
		return handler(ctx, req)
	}
}

// Package integration runs grpccreds against a real OpenID Connect provider
// (the npm package oidc-provider, started by the tests). Its tests carry the
// "integration" build tag; run them with make integration.
package integration

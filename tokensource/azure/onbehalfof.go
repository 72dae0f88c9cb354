package azure

import (
	"context"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/grpccreds/grpccreds/internal/engine"
	"github.com/grpccreds/grpccreds/tokensource"
	"golang.org/x/oauth2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// OnBehalfOf gets tokens for a downstream API on behalf of the user whose
// token a middle-tier service received (the Microsoft identity platform's
// on-behalf-of flow), from an MSAL confidential client.
type OnBehalfOf struct {
	// Client is the middle tier's MSAL confidential client, built with
	// confidential.New with a secret, certificate or assertion.
	Client confidential.Client
	// NewClient, set instead of Client, builds a new client at each call
	// (with confidential.New, which does no I/O; a client built once and
	// returned again defeats it): once in UserFunc, and again after every
	// 1000 on-behalf-of requests, so that MSAL's cache, which never forgets
	// a user (see UserFunc), is let go with the client it belongs to. A new
	// client costs one more request to the authority (its metadata). The
	// request that finds a new client due builds it, one at a time, while
	// the others go on with the current one. If building fails (an error or
	// a panic), the current client goes on and the next attempt comes 1000
	// requests later; MSAL's cache grows until one succeeds.
	NewClient func() (confidential.Client, error)
	// Scopes to get tokens for, e.g. "api://downstream/.default".
	Scopes []string
}

// renewEvery is how many on-behalf-of requests a client built by
// OnBehalfOf.NewClient serves before it is replaced.
var renewEvery = 1000

// UserFunc checks the fields and returns the function that
// [tokensource.NewPerUser] takes. Each call runs AcquireTokenOnBehalfOf with
// the incoming token as the user assertion.
//
// NewPerUser shares one fetch among a user's concurrent calls and refreshes
// the user's token ahead of expiry; MSAL alone does neither. A call that
// does not replace a token consults MSAL's cache, which MSAL keys by the
// incoming token. A call that replaces the engine's token
// ([tokensource.Replacing]) bypasses it and asks Azure AD for a token not
// issued before now, as [Confidential.TokenSource] does. ExpiresOn becomes
// the token's expiry and RefreshOn its refresh point.
//
// An empty incoming token is Unauthenticated, without a request. MSAL
// errors map to codes as for [Confidential]: an incoming token Azure AD
// refuses (invalid_grant) and other rejections to Unauthenticated; network
// failures, 5xx and 429 to Unavailable. No secret, token or response body
// reaches a message.
//
// MSAL keeps each user's tokens in the client's cache, partitioned by the
// incoming token, and never removes a partition: [tokensource.PerUser]'s
// bound limits the users it keeps, not MSAL's cache, which gains a
// partition for every incoming token (so every caller, every time their
// token is renewed; about 5 KB each with the package tests' tokens). MSAL
// Go (v1.10) offers no way to drop them: a client given a cache accessor
// (confidential.WithCache) fails every on-behalf-of request, because MSAL
// cannot load its partitioned cache through one. A long-running service
// with many callers should set NewClient rather than Client.
func (o OnBehalfOf) UserFunc() (tokensource.UserFunc, error) {
	if len(o.Scopes) == 0 {
		return nil, invalid("OnBehalfOf needs Scopes")
	}
	c, err := o.clients()
	if err != nil {
		return nil, err
	}
	scopes := slices.Clone(o.Scopes)
	return func(ctx context.Context, incoming string) (*oauth2.Token, error) {
		if incoming == "" {
			return nil, status.Error(codes.Unauthenticated, "azure: OnBehalfOf: no incoming token")
		}
		var acquire []confidential.AcquireOnBehalfOfOption
		if engine.Replacing(ctx) {
			acquire = append(acquire, confidential.WithClaims(refreshClaims(time.Now())))
		}
		client := c.next()
		res, err := client.AcquireTokenOnBehalfOf(ctx, incoming, scopes, acquire...)
		if err != nil {
			return nil, classifyMSAL(err)
		}
		return engineToken(ctx, res.AccessToken, res.ExpiresOn, res.Metadata.RefreshOn), nil
	}, nil
}

// clients hands out the confidential client of an OnBehalfOf, built anew
// after renewEvery requests if it came from NewClient.
type clients struct {
	build    func() (confidential.Client, error) // nil: the one client, for good
	mu       sync.Mutex
	cur      confidential.Client
	used     int
	building bool
}

func (o OnBehalfOf) clients() (*clients, error) {
	given := !reflect.ValueOf(o.Client).IsZero()
	switch {
	case given && o.NewClient != nil:
		return nil, invalid("OnBehalfOf takes Client or NewClient, not both")
	case given:
		return &clients{cur: o.Client}, nil
	case o.NewClient == nil:
		return nil, invalid("OnBehalfOf needs a Client built with confidential.New, or NewClient")
	}
	c := &clients{build: o.NewClient}
	cur, err := c.make()
	if err != nil {
		return nil, err
	}
	c.cur = cur
	return c, nil
}

// next returns the client for one request, after building its successor if
// one is due and no other request is building it.
func (c *clients) next() confidential.Client {
	if c.build == nil {
		return c.cur
	}
	c.mu.Lock()
	c.used++
	due := c.used > renewEvery && !c.building
	if !due {
		defer c.mu.Unlock()
		return c.cur
	}
	c.building = true
	c.mu.Unlock()
	cur, err := c.make()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.building, c.used = false, 1
	if err == nil {
		c.cur = cur
	}
	return c.cur
}

// make calls NewClient, which must return a client.
func (c *clients) make() (cur confidential.Client, err error) {
	defer func() {
		if recover() != nil { // its value is not quoted: it may hold anything
			err = invalid("OnBehalfOf.NewClient panicked")
		}
	}()
	cur, err = c.build()
	if err != nil {
		return confidential.Client{}, invalid("OnBehalfOf.NewClient: %v", err)
	}
	if reflect.ValueOf(cur).IsZero() {
		return confidential.Client{}, invalid("OnBehalfOf.NewClient returned no client")
	}
	return cur, nil
}

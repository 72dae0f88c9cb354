package grpccredstest

import (
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"time"
)

// ManagedIdentity is an identity the managed-identity endpoints hand tokens
// to. The one with no IDs is the system-assigned identity; the others are
// user-assigned, selected by any of their IDs.
type ManagedIdentity struct {
	ClientID, ObjectID, ResourceID string
	Identity
}

// The secrets the managed-identity hosts share with their clients. Tests put
// them in IDENTITY_HEADER and MSI_SECRET.
const (
	AppServiceHeader = "app-service-identity-header-5c1d"
	AzureMLSecret    = "azure-ml-msi-secret-0b7e"
)

// AddManagedIdentity registers mi with the managed-identity endpoints.
func (s *IdentityProvider) AddManagedIdentity(mi ManagedIdentity) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.managed = append(s.managed, mi)
}

// SetArcKey makes the Azure Arc endpoint ask for the key in file, whose
// contents are key, as the Arc agent does.
func (s *IdentityProvider) SetArcKey(file, key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.arcFile, s.arcKey = file, key
}

// ManagedIdentityBase is the plain-HTTP base URL of the managed-identity
// endpoints, http://127.0.0.1:PORT:
//   - IMDS and Azure Arc: GET /metadata/identity/oauth2/token, with the
//     Metadata header (Arc: api-version 2020-06-01 and its key challenge);
//   - App Service, Azure ML and Cloud Shell: /msi/token (App Service: GET with
//     X-IDENTITY-HEADER; Azure ML: GET with a secret header; Cloud Shell: POST).
//
// IMDS's own address, 169.254.169.254, is never used: a test's HTTP client
// dials this address whatever host it is asked for.
func (s *IdentityProvider) ManagedIdentityBase() string { return "http://" + s.miAddr }

// ManagedIdentityAddr is the host:port of the managed-identity endpoints.
func (s *IdentityProvider) ManagedIdentityAddr() string { return s.miAddr }

// ManagedIdentityRequests counts requests to the managed-identity endpoints.
func (s *IdentityProvider) ManagedIdentityRequests() int64 { return s.miRequests.Load() }

// startManaged listens for the managed-identity endpoints (again, on the same
// address after Stop).
func (s *IdentityProvider) startManaged() error {
	addr := s.miAddr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s.miAddr = lis.Addr().String()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metadata/identity/oauth2/token", s.imds)
	mux.HandleFunc("/msi/token", s.msi)
	s.miSrv = &http.Server{Handler: mux, ErrorLog: log.New(io.Discard, "", 0)}
	go s.miSrv.Serve(lis)
	return nil
}

// imds serves IMDS (api-version 2018-02-01) and Azure Arc (2020-06-01).
func (s *IdentityProvider) imds(w http.ResponseWriter, r *http.Request) {
	s.miRequests.Add(1)
	if r.Header.Get("Metadata") != "true" {
		writeJSON(w, http.StatusBadRequest, oauthError("invalid_request", "Required metadata header not specified"))
		return
	}
	if r.URL.Query().Get("api-version") == "2020-06-01" && !s.arcAuthorized(w, r) {
		return
	}
	s.managedToken(w, r, r.URL.Query())
}

// arcAuthorized answers Arc's challenge: without the key, 401 naming the key
// file; with it, true.
func (s *IdentityProvider) arcAuthorized(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	file, key := s.arcFile, s.arcKey
	s.mu.Unlock()
	if key != "" && r.Header.Get("Authorization") == "Basic "+key {
		return true
	}
	w.Header().Set("WWW-Authenticate", "Basic realm="+file)
	w.WriteHeader(http.StatusUnauthorized)
	return false
}

// msi serves App Service, Azure ML and Cloud Shell.
func (s *IdentityProvider) msi(w http.ResponseWriter, r *http.Request) {
	s.miRequests.Add(1)
	q := r.URL.Query()
	ok := r.Header.Get("X-IDENTITY-HEADER") == AppServiceHeader
	switch {
	case r.Method == http.MethodPost:
		r.ParseForm()
		q, ok = r.PostForm, r.Header.Get("Metadata") == "true"
	case q.Get("api-version") == "2017-09-01":
		ok = r.Header.Get("secret") == AzureMLSecret
		q.Set("client_id", q.Get("clientid"))
	}
	if !ok {
		writeJSON(w, http.StatusUnauthorized, oauthError("unauthorized_client", "missing or wrong identity header"))
		return
	}
	s.managedToken(w, r, q)
}

// managedToken issues a token for the identity q selects, with the resource
// as its audience, in the managed-identity response shape (times as strings).
func (s *IdentityProvider) managedToken(w http.ResponseWriter, r *http.Request, q map[string][]string) {
	if s.misbehave(w, r) {
		return
	}
	mi, found := s.findManaged(first(q, "client_id"), first(q, "object_id"), first(q, "msi_res_id")+first(q, "mi_res_id"))
	if !found {
		writeJSON(w, http.StatusBadRequest, oauthError("invalid_request", "Identity not found"))
		return
	}
	s.mu.Lock()
	lifetime := s.lifetime
	s.mu.Unlock()
	resource := first(q, "resource")
	tok, err := s.issueFor(mi.Identity, resource, lifetime, time.Time{})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	secs := strconv.Itoa(int(lifetime.Seconds()))
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer", "resource": resource,
		"client_id": mi.ClientID, "expires_in": secs, "ext_expires_in": secs,
		"expires_on": strconv.FormatInt(time.Now().Add(lifetime).Unix(), 10)})
}

func (s *IdentityProvider) findManaged(clientID, objectID, resourceID string) (ManagedIdentity, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, mi := range s.managed {
		system := mi.ClientID == "" && mi.ObjectID == "" && mi.ResourceID == ""
		switch {
		case clientID == "" && objectID == "" && resourceID == "" && system,
			clientID != "" && clientID == mi.ClientID,
			objectID != "" && objectID == mi.ObjectID,
			resourceID != "" && resourceID == mi.ResourceID:
			return mi, true
		}
	}
	return ManagedIdentity{}, false
}

func first(q map[string][]string, key string) string {
	if v := q[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

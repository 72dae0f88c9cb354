package grpccredstest

import (
	"cmp"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/grpccreds/grpccreds/internal/kitlink"
)

// startManaged listens for the managed-identity endpoints (again, on the same
// address after Down).
func (s *IdentityProvider) startManaged() error {
	lis, err := net.Listen("tcp", cmp.Or(s.azure.ManagedIdentityAddr, "127.0.0.1:0"))
	if err != nil {
		return err
	}
	s.azure.ManagedIdentityAddr = lis.Addr().String()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metadata/identity/oauth2/token", s.imds)
	mux.HandleFunc("/msi/token", s.msi)
	s.miSrv = &http.Server{Handler: mux, ErrorLog: log.New(io.Discard, "", 0)}
	go s.miSrv.Serve(lis)
	return nil
}

// imds serves IMDS (api-version 2018-02-01) and Azure Arc (2020-06-01).
func (s *IdentityProvider) imds(w http.ResponseWriter, r *http.Request) {
	s.azure.ManagedIdentityRequests.Add(1)
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
	file, key := s.azure.ArcKey()
	if key != "" && r.Header.Get("Authorization") == "Basic "+key {
		return true
	}
	w.Header().Set("WWW-Authenticate", "Basic realm="+file)
	w.WriteHeader(http.StatusUnauthorized)
	return false
}

// msi serves App Service, Azure ML and Cloud Shell.
func (s *IdentityProvider) msi(w http.ResponseWriter, r *http.Request) {
	s.azure.ManagedIdentityRequests.Add(1)
	q := r.URL.Query()
	ok := r.Header.Get("X-IDENTITY-HEADER") == kitlink.AppServiceHeader
	switch {
	case r.Method == http.MethodPost:
		r.ParseForm()
		q, ok = r.PostForm, r.Header.Get("Metadata") == "true"
	case q.Get("api-version") == "2017-09-01":
		ok = r.Header.Get("secret") == kitlink.AzureMLSecret
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
	mi, found := s.azure.FindManagedIdentity(first(q, "client_id"), first(q, "object_id"), first(q, "msi_res_id")+first(q, "mi_res_id"))
	if !found {
		writeJSON(w, http.StatusBadRequest, oauthError("invalid_request", "Identity not found"))
		return
	}
	s.mu.Lock()
	lifetime := s.lifetime
	s.mu.Unlock()
	resource := first(q, "resource")
	tok, err := s.Signer.issueFor(Identity(mi.Person), resource, lifetime, time.Time{})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	secs := strconv.Itoa(int(lifetime.Seconds()))
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer", "resource": resource,
		"client_id": mi.ClientID, "expires_in": secs, "ext_expires_in": secs,
		"expires_on": strconv.FormatInt(time.Now().Add(lifetime).Unix(), 10)})
}

func first(q map[string][]string, key string) string {
	if v := q[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

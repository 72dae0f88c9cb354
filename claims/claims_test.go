package claims_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/claims"
)

const raw = `{"sub":"s","name":"N","oid":"o","exp":2000000000.5,"roles":["Reader","Trader",7],
	"groups":[{"id":"g1","tags":["a"]}],"ctx":{"ip":"10.0.0.1","amr":["pwd"]}}`

func parse(t *testing.T) claims.Claims {
	t.Helper()
	var c claims.Claims
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// A clone shares nothing that can be changed with its original, down to the
// arrays and objects nested in the claims.
func TestClone(t *testing.T) {
	orig, keep := parse(t), parse(t)
	orig["scp"], keep["scp"] = []string{"read"}, []string{"read"}
	c := orig.Clone()
	if !reflect.DeepEqual(c, orig) {
		t.Fatalf("clone differs: %v", c)
	}
	c["roles"].([]any)[0] = "Admin"
	c["groups"].([]any)[0].(map[string]any)["tags"].([]any)[0] = "z"
	c["ctx"].(map[string]any)["amr"].([]any)[0] = "none"
	c["scp"].([]string)[0] = "write"
	c["new"] = true
	if !reflect.DeepEqual(orig, keep) {
		t.Fatalf("changing the clone changed the original: %v", orig)
	}
	if claims.Claims(nil).Clone() != nil {
		t.Fatal("nil clone is not nil")
	}
}

// Decode fills a caller's own type, as go-oidc's Claims does.
func TestDecode(t *testing.T) {
	var mine struct {
		Name  string   `json:"name"`
		OID   string   `json:"oid"`
		Roles []any    `json:"roles"`
		Amr   []string `json:"amr"`
		Ctx   struct {
			IP string `json:"ip"`
		} `json:"ctx"`
	}
	if err := parse(t).Decode(&mine); err != nil {
		t.Fatal(err)
	}
	if mine.Name != "N" || mine.OID != "o" || len(mine.Roles) != 3 || mine.Ctx.IP != "10.0.0.1" {
		t.Fatalf("decoded %+v", mine)
	}
	var wrong struct {
		Name int `json:"name"`
	}
	if err := parse(t).Decode(&wrong); err == nil {
		t.Fatal("decoding a string into an int succeeded")
	}
}

// Roles reads an array (keeping only strings) or a single string; Expiry reads
// a numeric exp with its fraction.
func TestRolesAndExpiry(t *testing.T) {
	c := parse(t)
	if got := c.Roles(); !reflect.DeepEqual(got, []string{"Reader", "Trader"}) {
		t.Fatalf("Roles() = %v", got)
	}
	if got := (claims.Claims{"roles": "Admin"}).Roles(); !reflect.DeepEqual(got, []string{"Admin"}) {
		t.Fatalf("single role: %v", got)
	}
	if got := (claims.Claims{}).Roles(); got != nil {
		t.Fatalf("no roles: %v", got)
	}
	if got, want := c.Expiry(), time.Unix(2000000000, 5e8); !got.Equal(want) {
		t.Fatalf("Expiry() = %v, want %v", got, want)
	}
	for _, exp := range []any{"2000000000", nil, true} {
		if got := (claims.Claims{"exp": exp}).Expiry(); !got.IsZero() {
			t.Fatalf("exp %v: Expiry() = %v, want zero", exp, got)
		}
	}
}

package tokensource

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// A clone shares nothing that can be changed with its original, down to the
// arrays and objects nested in the claims.
func TestClaimsClone(t *testing.T) {
	var all jwt.MapClaims
	raw := `{"sub":"s","name":"N","oid":"o","exp":2000000000,"roles":["Reader","Trader"],
		"groups":[{"id":"g1","tags":["a"]}],"ctx":{"ip":"10.0.0.1","amr":["pwd"]}}`
	if err := json.Unmarshal([]byte(raw), &all); err != nil {
		t.Fatal(err)
	}
	all["scp"] = []string{"read"}
	orig := NewClaims(all)
	keep := *orig
	keep.Roles = []string{"Reader", "Trader"}
	var keepAll jwt.MapClaims
	json.Unmarshal([]byte(raw), &keepAll)
	keepAll["scp"] = []string{"read"}

	c := orig.Clone()
	if !reflect.DeepEqual(c, orig) {
		t.Fatalf("clone differs: %+v", c)
	}
	c.Name, c.Roles[0] = "M", "Admin"
	c.Roles = append(c.Roles, "Admin")
	c.All["roles"].([]any)[0] = "Admin"
	c.All["groups"].([]any)[0].(map[string]any)["tags"].([]any)[0] = "z"
	c.All["ctx"].(map[string]any)["amr"].([]any)[0] = "none"
	c.All["scp"].([]string)[0] = "write"
	c.All["new"] = true

	if orig.Name != keep.Name || !reflect.DeepEqual(orig.Roles, keep.Roles) || !reflect.DeepEqual(orig.All, keepAll) {
		t.Fatalf("changing the clone changed the original: %+v", orig)
	}
	if (*Claims)(nil).Clone() != nil {
		t.Fatal("nil clone is not nil")
	}
}

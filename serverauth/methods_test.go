package serverauth

import (
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"
)

func TestMethodNamesChecked(t *testing.T) {
	for _, tc := range []struct {
		name  string
		roles map[string][]string
		skip  []string
		want  string // in the error; "" means the config is good
	}{
		{"exact and wildcard", map[string][]string{"/grpc.health.v1.Health/Check": {"A"}, "/trading.v1.Orders/*": {"B"}},
			[]string{"/grpc.health.v1.Health/Watch"}, ""},
		{"no package", map[string][]string{"/Health/Check": {"A"}}, []string{"/Health/Watch"}, ""},
		{"no leading slash", map[string][]string{"grpc.health.v1.Health/Check": {"A"}}, nil, `"grpc.health.v1.Health/Check"`},
		{"dot for slash", map[string][]string{"/grpc.health.v1.Health.Check": {"A"}}, nil, `"/grpc.health.v1.Health.Check"`},
		{"no method", map[string][]string{"/grpc.health.v1.Health/": {"A"}}, nil, `"/grpc.health.v1.Health/"`},
		{"trailing slash", map[string][]string{"/pkg.S/M/": {"A"}}, nil, `"/pkg.S/M/"`},
		{"empty package part", map[string][]string{"/grpc..Health/Check": {"A"}}, nil, `"/grpc..Health/Check"`},
		{"trailing space", map[string][]string{"/pkg.S/M ": {"A"}}, nil, `"/pkg.S/M "`},
		{"partial wildcard", map[string][]string{"/pkg.S/Get*": {"A"}}, nil, `"/pkg.S/Get*"`},
		{"wildcard service", map[string][]string{"/*/M": {"A"}}, nil, `"/*/M"`},
		{"everything", map[string][]string{"/*": {"A"}}, nil, `"/*"`},
		{"no roles", map[string][]string{"/pkg.S/M": {}}, nil, "refuse every caller"},
		{"nil roles", map[string][]string{"/pkg.S/*": nil}, nil, `"/pkg.S/*"`},
		{"empty role name", map[string][]string{"/pkg.S/M": {"A", ""}}, nil, "empty role"},
		{"skip without slash", nil, []string{"grpc.health.v1.Health/Check"}, `"grpc.health.v1.Health/Check"`},
		{"skip wildcard", nil, []string{"/grpc.health.v1.Health/*"}, `"/grpc.health.v1.Health/*"`},
		{"skip and roles", map[string][]string{"/pkg.S/M": {"A"}}, []string{"/pkg.S/M"}, "both"},
		{"skip under a roles wildcard", map[string][]string{"/grpc.health.v1.Health/*": {"Admin"}},
			[]string{"/grpc.health.v1.Health/Check"}, `MethodRoles["/grpc.health.v1.Health/*"]`},
	} {
		cfg := staticConfig("k1")
		cfg.MethodRoles, cfg.Skip = tc.roles, tc.skip
		v, err := NewVerifier(cfg)
		switch {
		case err == nil:
			v.Close()
			if tc.want != "" {
				t.Errorf("%s: accepted", tc.name)
			}
		case tc.want == "":
			t.Errorf("%s: %v", tc.name, err)
		case !strings.Contains(err.Error(), tc.want):
			t.Errorf("%s: error %q does not say %s", tc.name, err, tc.want)
		}
	}
}

// CheckMethods finds the MethodRoles keys and Skip entries that no method
// registered on a real server matches, and only those.
func TestCheckMethods(t *testing.T) {
	srv := grpc.NewServer()
	defer srv.Stop()
	healthpb.RegisterHealthServer(srv, health.NewServer())
	reflection.Register(srv)
	cfg := staticConfig("k1")
	cfg.MethodRoles = map[string][]string{
		"/grpc.health.v1.Health/Check": {"Admin"},
		"/grpc.health.v1.Health/*":     {"Reader"},
		"/grpc.health.v1.Health/Chek":  {"Admin"},
		"/grpc.health.v1.Helth/*":      {"Admin"},
	}
	cfg.MethodScopes = map[string][]string{"/grpc.health.v1.Health/Watch": {"health.read"}, "/grpc.health.v1.Health/Wach": {"health.read"}}
	cfg.Skip = []string{"/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", "/grpc.reflection.v1.Reflection/Info"}
	v, err := NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	err = v.CheckMethods(srv)
	if err == nil {
		t.Fatal("misspelt and unregistered methods not reported")
	}
	for _, want := range []string{`MethodRoles "/grpc.health.v1.Health/Chek"`, `MethodRoles "/grpc.health.v1.Helth/*"`,
		`Skip "/grpc.reflection.v1.Reflection/Info"`, `MethodScopes "/grpc.health.v1.Health/Wach"`, "registered services: grpc.health.v1.Health, grpc.reflection.v1.ServerReflection"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	for _, good := range []string{`"/grpc.health.v1.Health/Check"`, `"/grpc.health.v1.Health/*"`, "ServerReflectionInfo", "Health/Watch"} {
		if strings.Contains(err.Error(), good) {
			t.Errorf("error %q names the registered %s", err, good)
		}
	}

	delete(cfg.MethodRoles, "/grpc.health.v1.Health/Chek")
	delete(cfg.MethodRoles, "/grpc.health.v1.Helth/*")
	delete(cfg.MethodScopes, "/grpc.health.v1.Health/Wach")
	cfg.Skip = cfg.Skip[:1]
	good, err := NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	if err := good.CheckMethods(srv); err != nil {
		t.Fatal(err)
	}
}

// Changing the MethodRoles map after NewVerifier changes nothing.
func TestMethodRolesCopied(t *testing.T) {
	cfg := staticConfig("k1")
	cfg.MethodRoles = map[string][]string{"/grpc.health.v1.Health/Check": {"Admin"}}
	v, err := NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	cfg.MethodRoles["/grpc.health.v1.Health/Check"][0] = "Trader"
	if err := check(serve(t, v.admit), "Bearer "+sign("k1", baseClaims())); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("a Trader called a method for Admins after the map changed: %v", err)
	}
}

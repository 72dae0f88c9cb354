package serverauth

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/grpc"
)

// ServiceInfoProvider lists a server's registered services. A *grpc.Server
// is one.
type ServiceInfoProvider interface {
	GetServiceInfo() map[string]grpc.ServiceInfo
}

// CheckMethods reports every MethodRoles or MethodScopes key and Skip entry
// that matches no method registered on srv (a wildcard must name a
// registered service). A misspelt key leaves its method needing no role or
// scope. Call it after registering the services and before Serve.
func (v *Verifier) CheckMethods(srv ServiceInfoProvider) error {
	services := srv.GetServiceInfo()
	known := map[string]bool{}
	for name, info := range services {
		known["/"+name+"/*"] = true
		for _, m := range info.Methods {
			known["/"+name+"/"+m.Name] = true
		}
	}
	var unknown []string
	for _, table := range []methodTable{{"MethodRoles", "role", v.cfg.MethodRoles}, {"MethodScopes", "scope", v.cfg.MethodScopes}} {
		for _, m := range slices.Sorted(maps.Keys(table.lists)) {
			if !known[m] {
				unknown = append(unknown, table.name+" "+strconv.Quote(m))
			}
		}
	}
	for _, m := range v.cfg.Skip {
		if !known[m] {
			unknown = append(unknown, "Skip "+strconv.Quote(m))
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	return fmt.Errorf("serverauth: no registered method matches %s (registered services: %s)",
		strings.Join(unknown, ", "), strings.Join(slices.Sorted(maps.Keys(services)), ", "))
}

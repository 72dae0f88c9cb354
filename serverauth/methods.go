package serverauth

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// checkMethodNames refuses MethodRoles keys and Skip entries that are not
// method names, and role lists that cannot mean what was intended: a
// misspelt key would leave its method needing no role.
func checkMethodNames(cfg Config) error {
	var errs []error
	for _, m := range slices.Sorted(maps.Keys(cfg.MethodRoles)) {
		if err := checkRoleEntry(m, cfg.MethodRoles[m]); err != nil {
			errs = append(errs, err)
		}
	}
	for _, m := range cfg.Skip {
		if err := checkSkipEntry(m, cfg.MethodRoles); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// checkSkipEntry refuses a Skip entry that is not a method name, or that
// MethodRoles gives roles, by name or by its service's wildcard: a skipped
// method is never checked, so those roles would silently not apply.
func checkSkipEntry(method string, roles map[string][]string) error {
	if !validMethod(method, false) {
		return fmt.Errorf(`serverauth: Skip entry %q is not a method name: want "/pkg.Service/Method"`, method)
	}
	if _, ok := roles[method]; ok {
		return fmt.Errorf("serverauth: %q is in both Skip and MethodRoles: a skipped method is never checked, so its roles would not apply", method)
	}
	wildcard := method[:strings.LastIndexByte(method, '/')+1] + "*"
	if _, ok := roles[wildcard]; ok {
		return fmt.Errorf("serverauth: Skip entry %q is under MethodRoles[%q]: a skipped method is never checked, "+
			"so the service's roles would not apply to it (drop the entry, or list the service's methods in MethodRoles instead)", method, wildcard)
	}
	return nil
}

func checkRoleEntry(method string, roles []string) error {
	switch {
	case !validMethod(method, true):
		return fmt.Errorf(`serverauth: MethodRoles key %q is not a method name: want "/pkg.Service/Method" or "/pkg.Service/*"`, method)
	case len(roles) == 0:
		return fmt.Errorf("serverauth: MethodRoles[%q] lists no roles, which would refuse every caller: "+
			"list the roles that may call it, or remove the key if it needs none", method)
	case slices.Contains(roles, ""):
		return fmt.Errorf("serverauth: MethodRoles[%q] lists an empty role name", method)
	}
	return nil
}

// validMethod reports whether name is "/pkg.Service/Method" (the package
// optional) or, if wildcard, "/pkg.Service/*".
func validMethod(name string, wildcard bool) bool {
	if !strings.HasPrefix(name, "/") {
		return false
	}
	service, method, ok := strings.Cut(name[1:], "/")
	if !ok {
		return false
	}
	for part := range strings.SplitSeq(service, ".") {
		if !identifier(part) {
			return false
		}
	}
	return identifier(method) || wildcard && method == "*"
}

// identifier reports whether s is a protobuf identifier: a letter or
// underscore, then letters, digits and underscores.
func identifier(s string) bool {
	for i, r := range s {
		letter := r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'
		if !letter && (i == 0 || r < '0' || r > '9') {
			return false
		}
	}
	return s != ""
}

// copyRoles copies MethodRoles, so that changing the caller's map after
// NewVerifier cannot bypass the checks.
func copyRoles(m map[string][]string) map[string][]string {
	out := make(map[string][]string, len(m))
	for k, roles := range m {
		out[k] = slices.Clone(roles)
	}
	return out
}

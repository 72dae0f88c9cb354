package serverauth

import (
	"errors"

	"fmt"
	"maps"
	"slices"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// checkMethodNames refuses MethodRoles and MethodScopes keys and Skip
// entries that are not method names, and lists that cannot mean what was
// intended: a misspelt key would leave its method needing nothing.
func checkMethodNames(cfg Config) error {
	var errs []error
	for _, table := range []methodTable{{"MethodRoles", "role", cfg.MethodRoles}, {"MethodScopes", "scope", cfg.MethodScopes}} {
		for _, m := range slices.Sorted(maps.Keys(table.lists)) {
			if err := table.checkEntry(m); err != nil {
				errs = append(errs, err)
			}
		}
		for _, m := range cfg.Skip {
			if err := table.checkSkip(m); err != nil {
				errs = append(errs, err)
			}
		}
	}
	for _, m := range cfg.Skip {
		if !validMethod(m, false) {
			errs = append(errs, fmt.Errorf(`serverauth: Skip entry %q is not a method name: want "/pkg.Service/Method"`, m))
		}
	}
	return errors.Join(errs...)
}

// methodTable is MethodRoles or MethodScopes, with the words to name it.
type methodTable struct {
	name, item string
	lists      map[string][]string
}

// checkSkip refuses a Skip entry the table lists, by name or by its
// service's wildcard: a skipped method is never checked, so the table's
// entry would silently not apply.
func (t methodTable) checkSkip(method string) error {
	if !validMethod(method, false) {
		return nil // reported once, by checkMethodNames
	}
	if _, ok := t.lists[method]; ok {
		return fmt.Errorf("serverauth: %q is in both Skip and %s: a skipped method is never checked, so its %ss would not apply", method, t.name, t.item)
	}
	wildcard := method[:strings.LastIndexByte(method, '/')+1] + "*"
	if _, ok := t.lists[wildcard]; ok {
		return fmt.Errorf("serverauth: Skip entry %q is under %s[%q]: a skipped method is never checked, "+
			"so the service's %ss would not apply to it (drop the entry, or list the service's methods in %s instead)", method, t.name, wildcard, t.item, t.name)
	}
	return nil
}

func (t methodTable) checkEntry(method string) error {
	list := t.lists[method]
	switch {
	case !validMethod(method, true):
		return fmt.Errorf(`serverauth: %s key %q is not a method name: want "/pkg.Service/Method" or "/pkg.Service/*"`, t.name, method)
	case len(list) == 0:
		return fmt.Errorf("serverauth: %s[%q] lists no %ss, which would refuse every caller it applies to: "+
			"list the %ss that may call it, or remove the key", t.name, method, t.item, t.item)
	case slices.Contains(list, ""):
		return fmt.Errorf("serverauth: %s[%q] lists an empty %s name", t.name, method, t.item)
	case t.item == "scope" && slices.ContainsFunc(list, func(s string) bool { return strings.ContainsAny(s, " \t\n") }):
		return fmt.Errorf("serverauth: %s[%q] lists a scope with a space in it: scopes are space-delimited, list each on its own", t.name, method)
	}
	return nil
}

// rule is what may call a method: one of roles or one of scopes, whichever
// the tables list.
type rule struct {
	roles, scopes []string
}

// rules holds MethodRoles and MethodScopes merged: by exact method, and by
// service ("/pkg.Service/", the wildcard without its "*").
type rules struct {
	exact, service map[string]rule
}

// newRules merges the tables. An exact method in either table shadows the
// service wildcards of both: the method's own entry is its whole rule.
func newRules(roles, scopes map[string][]string) rules {
	r := rules{exact: map[string]rule{}, service: map[string]rule{}}
	for _, t := range []struct {
		table map[string][]string
		set   func(*rule, []string)
	}{{roles, func(r *rule, l []string) { r.roles = l }}, {scopes, func(r *rule, l []string) { r.scopes = l }}} {
		for key, list := range t.table {
			m, name := r.exact, key
			if service, ok := strings.CutSuffix(key, "*"); ok {
				m, name = r.service, service
			}
			entry := m[name]
			t.set(&entry, list)
			m[name] = entry
		}
	}
	return r
}

// lookup returns the rule for method, if either table lists it.
func (r rules) lookup(method string) (rule, bool) {
	if e, ok := r.exact[method]; ok {
		return e, true
	}
	if i := strings.LastIndexByte(method, '/'); i > 0 && len(r.service) > 0 {
		e, ok := r.service[method[:i+1]]
		return e, ok
	}
	return rule{}, false
}

// authorize applies MethodRoles and MethodScopes to a call of method: if
// either lists it, one listed role or one listed scope is enough.
func (v *Verifier) authorize(method string, c *verified) error {
	r, ok := v.rules.lookup(method)
	if !ok || slices.ContainsFunc(r.roles, c.hasRole) || slices.ContainsFunc(r.scopes, c.hasScope) {
		return nil
	}
	switch {
	case r.scopes == nil:
		return status.Errorf(codes.PermissionDenied, "%s requires one of the roles %v", method, r.roles)
	case r.roles == nil:
		return status.Errorf(codes.PermissionDenied, "%s requires one of the scopes %v", method, r.scopes)
	}
	return status.Errorf(codes.PermissionDenied, "%s requires one of the roles %v or one of the scopes %v", method, r.roles, r.scopes)
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

// copyLists copies MethodRoles or MethodScopes, so that changing the
// caller's map after NewVerifier cannot bypass the checks.
func copyLists(m map[string][]string) map[string][]string {
	out := make(map[string][]string, len(m))
	for k, roles := range m {
		out[k] = slices.Clone(roles)
	}
	return out
}

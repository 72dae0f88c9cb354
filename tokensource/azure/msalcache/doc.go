// Package msalcache keeps MSAL Go's token cache across runs, so that a
// command-line tool signing its user in (azure.DeviceCode,
// azure.InteractiveBrowser) asks them once, not every run: [Persistent] is
// the hook to pass to public.WithCache (or confidential.WithCache), over a
// [Store] such as [FileStore] or one of your own over an OS keyring.
//
// Not for a confidential client that gets tokens on behalf of users
// (azure.OnBehalfOf): MSAL Go cannot load its on-behalf-of cache through a
// cache hook, so every such request fails.
//
// It is called msalcache, not cache, because it is used beside MSAL's own
// package cache, whose cache.ExportReplace [Persistent] returns.
//
// We keep this package rather than use
// github.com/AzureAD/microsoft-authentication-extensions-for-go/cache, which
// follows symbolic links, never tightens an existing file to 0600, and
// makes every token request fail for a second or more on a corrupt cache
// file.
//
// Messages and log lines are prefixed "msalcache: " and never hold a token,
// a secret or the stored bytes.
package msalcache

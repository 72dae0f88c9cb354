package azure

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// AZURE_TOKEN_CREDENTIALS takes what azidentity v1.15.0 takes: "dev" and
// "prod" exactly as written, a credential's name in any case, nothing else;
// set but empty is refused, unset is the whole chain.
func TestDefaultReadsAzureTokenCredentialsAsAzidentityDoes(t *testing.T) {
	all := []string{EnvironmentCredential, WorkloadIdentityCredential, ManagedIdentityCredential, AzureCLICredential, AzureDeveloperCLICredential}
	for v, want := range map[string][]string{
		"dev":                         {AzureCLICredential, AzureDeveloperCLICredential},
		"prod":                        {EnvironmentCredential, WorkloadIdentityCredential, ManagedIdentityCredential},
		"EnvironmentCredential":       {EnvironmentCredential},
		"workloadidentitycredential":  {WorkloadIdentityCredential},
		"MANAGEDIDENTITYCREDENTIAL":   {ManagedIdentityCredential},
		"AzureCliCredential":          {AzureCLICredential},
		"azuredeveloperclicredential": {AzureDeveloperCLICredential},
	} {
		t.Setenv("AZURE_TOKEN_CREDENTIALS", v)
		if got, err := chainNames(); err != nil || !slices.Equal(got, want) {
			t.Errorf("%q: %v, %v; want %v", v, got, err, want)
		}
	}
	for _, v := range []string{"DEV", "Prod", " dev ", "dev\n", "", "dev,prod", " AzureCLICredential", "AzureCLI", "laptop"} {
		t.Setenv("AZURE_TOKEN_CREDENTIALS", v)
		if got, err := chainNames(); err == nil || !listsValidValues(err.Error(), all) {
			t.Errorf("%q: %v, %v; want an error listing the valid values", v, got, err)
		}
	}
	for _, v := range []string{"AzurePowerShellCredential", "azurepowershellcredential"} {
		t.Setenv("AZURE_TOKEN_CREDENTIALS", v)
		if _, err := chainNames(); err == nil || !strings.Contains(err.Error(), "no Azure PowerShell credential") || !listsValidValues(err.Error(), all) {
			t.Errorf("%q: %v; want an error saying there is no PowerShell credential here", v, err)
		}
	}
	os.Unsetenv("AZURE_TOKEN_CREDENTIALS") // t.Setenv above restores it
	if got, err := chainNames(); err != nil || !slices.Equal(got, all) {
		t.Errorf("unset: %v, %v; want %v", got, err, all)
	}
}

// chainNames builds the default chain and returns its credentials' names.
func chainNames() ([]string, error) {
	src, err := Default{Scope: "api://x/.default"}.TokenSource()
	if err != nil {
		return nil, err
	}
	var names []string
	for _, l := range src.(*chain).links {
		names = append(names, l.name)
	}
	return names, nil
}

func listsValidValues(msg string, names []string) bool {
	ok := strings.HasPrefix(msg, "azure: AZURE_TOKEN_CREDENTIALS=") && strings.Contains(msg, `"dev"`) && strings.Contains(msg, `"prod"`)
	for _, n := range names {
		ok = ok && strings.Contains(msg, n)
	}
	return ok
}

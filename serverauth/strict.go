package serverauth

import "errors"

// checkIssuerAudience refuses a Config that would accept tokens from any
// issuer or for any audience without saying so, or that says both.
func checkIssuerAudience(cfg Config) error {
	switch {
	case cfg.Issuer == "" && !cfg.SkipIssuerCheck:
		return errors.New("serverauth: Config.Issuer is empty: set it to the iss claim of the tokens you accept " +
			"(Azure AD: https://login.microsoftonline.com/<tenant-id>/v2.0), or set SkipIssuerCheck to accept any issuer the keys verify")
	case cfg.Issuer != "" && cfg.SkipIssuerCheck:
		return errors.New("serverauth: Config.Issuer and SkipIssuerCheck are both set: keep one")
	case cfg.Audience == "" && !cfg.SkipAudienceCheck:
		return errors.New("serverauth: Config.Audience is empty: set it to the aud claim of tokens meant for this API " +
			"(Azure AD: the application (client) ID or App ID URI such as api://<app>), or set SkipAudienceCheck to accept tokens for any app")
	case cfg.Audience != "" && cfg.SkipAudienceCheck:
		return errors.New("serverauth: Config.Audience and SkipAudienceCheck are both set: keep one")
	}
	return nil
}

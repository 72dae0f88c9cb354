// A real OpenID Connect provider (npm oidc-provider) for grpccreds'
// integration tests, mounted the way Azure AD lays out its endpoints:
// https://127.0.0.1:PORT/<tenant>/v2.0/.well-known/openid-configuration.
//
// Configured by the environment: PORT (0 picks one), TENANT, CERT_FILE,
// KEY_FILE (TLS), JWKS_FILE (the signing key, private JWK included, created
// on first start and reused so a restart keeps the same kid), KID (the kid of
// a key it creates, default integration-1), CLIENT_ID, CLIENT_SECRET,
// AUDIENCE, TTL (access-token lifetime in seconds). Prints "LISTENING <port>"
// when ready.
//
// Scopes: the resource AUDIENCE (the default resource) grants the scope
// AUDIENCE/.default and those in SCOPES (space-delimited, e.g.
// "orders.read orders.write"), as JWT access tokens. CLIENT_SCOPE, if set,
// is the client's allowed scope (its "scope" metadata, with openid and
// offline_access, which MSAL always asks for): it may then ask for no other
// scope of SCOPES (invalid_scope). A token carries the scopes asked for that
// its resource grants, in its "scope" claim.
//
// Opaque tokens and introspection: OPAQUE_AUDIENCE, if set, is a second
// resource (asked for with the token request's "resource" parameter) that
// grants the same scopes as opaque (non-JWT) access tokens. RS_CLIENT_ID and
// RS_CLIENT_SECRET, if set, register that resource server as a client with
// no grants, authenticating with client_secret_basic (oidc-provider 9 uses a
// client's token_endpoint_auth_method at the introspection endpoint too).
// The introspection endpoint (features.introspection, named in discovery) is
// always on, but its allowedPolicy answers active only to RS_CLIENT_ID, and
// only for tokens whose audience is OPAQUE_AUDIENCE; anyone else gets
// {"active": false}.
//
// private_key_jwt: JWT_CLIENT_ID and JWT_CLIENT_JWKS (a JSON JWK Set of the
// client's public keys, each with a kid; no "alg", so one RSA key serves
// RS256 and PS256), if set, register a second client that may use the
// client_credentials grant with the same resources and scopes as CLIENT_ID
// (CLIENT_SCOPE included), and that authenticates at the token endpoint with
// a signed client_assertion (token_endpoint_auth_method private_key_jwt, RFC
// 7523 §2.2). oidc-provider's defaults are kept: clientAuthMethods includes
// private_key_jwt, and with no token_endpoint_auth_signing_alg registered
// it accepts enabledJWA.clientAuthSigningAlgValues less the HS ones: RS256,
// PS256, ES256, Ed25519, EdDSA. It requires of the assertion iss = sub =
// the client ID, exp, a jti it has not seen before from that client (it
// remembers each until exp plus 15 s of clock tolerance, and refuses a replay
// with invalid_client), and aud equal to (or, as an array, including) the
// issuer, the token endpoint's URL or the URL of the endpoint called.
import fs from 'node:fs';
import https from 'node:https';
import { generateKeyPair, exportJWK } from 'jose';
import Provider, { errors } from 'oidc-provider';

const env = (k, d) => process.env[k] ?? d;
const tenant = env('TENANT', 'tenant');
const audience = env('AUDIENCE', 'api://grpccreds');
const opaqueAudience = env('OPAQUE_AUDIENCE', '');
const apiScopes = env('SCOPES', '').split(' ').filter(Boolean);
const clientScope = env('CLIENT_SCOPE', '');
const rsClientID = env('RS_CLIENT_ID', '');
const ttl = Number(env('TTL', '60'));
const jwtClientID = env('JWT_CLIENT_ID', '');

async function signingKey(file) {
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8'));
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: env('KID', 'integration-1'), alg: 'RS256', use: 'sig' };
  fs.writeFileSync(file, JSON.stringify(jwk));
  return jwk;
}

// resourceServer describes a resource the client may ask a token for.
function resourceServer(_ctx, resource) {
  const scope = (aud) => [`${aud}/.default`, ...apiScopes].join(' ');
  if (resource === audience) {
    return { scope: scope(audience), audience, accessTokenFormat: 'jwt', accessTokenTTL: ttl };
  }
  if (opaqueAudience && resource === opaqueAudience) {
    return { scope: scope(opaqueAudience), audience: opaqueAudience, accessTokenFormat: 'opaque', accessTokenTTL: ttl };
  }
  throw new errors.InvalidTarget();
}

const clients = [{
  client_id: env('CLIENT_ID', 'app'),
  client_secret: env('CLIENT_SECRET', 'secret'),
  grant_types: ['client_credentials'],
  redirect_uris: [],
  response_types: [],
  token_endpoint_auth_method: 'client_secret_post',
  ...(clientScope ? { scope: `openid offline_access ${clientScope}` } : {}),
}];
if (rsClientID) {
  clients.push({
    client_id: rsClientID,
    client_secret: env('RS_CLIENT_SECRET'),
    grant_types: [],
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
  });
}

if (jwtClientID) {
  clients.push({
    client_id: jwtClientID,
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: 'private_key_jwt',
    jwks: JSON.parse(env('JWT_CLIENT_JWKS')),
    ...(clientScope ? { scope: `openid offline_access ${clientScope}` } : {}),
  });
}

const server = https.createServer({ cert: fs.readFileSync(env('CERT_FILE')), key: fs.readFileSync(env('KEY_FILE')) });
server.listen(Number(env('PORT', '0')), '127.0.0.1', async () => {
  const { port } = server.address();
  const issuer = `https://127.0.0.1:${port}/${tenant}/v2.0`;
  const provider = new Provider(issuer, {
    clients,
    scopes: ['openid', 'offline_access', ...apiScopes],
    jwks: { keys: [await signingKey(env('JWKS_FILE'))] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        allowedPolicy: (_ctx, client, token) => rsClientID !== '' && client.clientId === rsClientID
          && opaqueAudience !== '' && token.aud === opaqueAudience,
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => audience,
        useGrantedResource: () => true,
        getResourceServerInfo: resourceServer,
      },
    },
  });
  provider.on('server_error', (_ctx, err) => console.error('server_error', err));
  const callback = provider.callback();
  const prefix = `/${tenant}/v2.0`;
  server.on('request', (req, res) => {
    if (!req.url.startsWith(prefix)) {
      res.writeHead(404).end();
      return;
    }
    req.originalUrl = req.url; // oidc-provider's documented way to mount under a path
    req.url = req.url.slice(prefix.length) || '/';
    callback(req, res);
  });
  console.log(`LISTENING ${port}`);
});

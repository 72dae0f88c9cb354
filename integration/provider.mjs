// A real OpenID Connect provider (npm oidc-provider) for grpccreds'
// integration tests, mounted the way Azure AD lays out its endpoints:
// https://127.0.0.1:PORT/<tenant>/v2.0/.well-known/openid-configuration.
//
// Configured by the environment: PORT (0 picks one), TENANT, CERT_FILE,
// KEY_FILE (TLS), JWKS_FILE (the signing key, created on first start and reused
// so a restart keeps the same kid), CLIENT_ID, CLIENT_SECRET, AUDIENCE, TTL
// (access-token lifetime in seconds). Prints "LISTENING <port>" when ready.
import fs from 'node:fs';
import https from 'node:https';
import { generateKeyPair, exportJWK } from 'jose';
import Provider from 'oidc-provider';

const env = (k, d) => process.env[k] ?? d;
const tenant = env('TENANT', 'tenant');
const audience = env('AUDIENCE', 'api://grpccreds');
const ttl = Number(env('TTL', '60'));

async function signingKey(file) {
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8'));
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: 'integration-1', alg: 'RS256', use: 'sig' };
  fs.writeFileSync(file, JSON.stringify(jwk));
  return jwk;
}

const server = https.createServer({ cert: fs.readFileSync(env('CERT_FILE')), key: fs.readFileSync(env('KEY_FILE')) });
server.listen(Number(env('PORT', '0')), '127.0.0.1', async () => {
  const { port } = server.address();
  const issuer = `https://127.0.0.1:${port}/${tenant}/v2.0`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: env('CLIENT_ID', 'app'),
      client_secret: env('CLIENT_SECRET', 'secret'),
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_post',
    }],
    jwks: { keys: [await signingKey(env('JWKS_FILE'))] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => audience,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({ scope: `${audience}/.default`, audience, accessTokenFormat: 'jwt', accessTokenTTL: ttl }),
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

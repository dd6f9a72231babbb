// A real, unmodified OAuth client (openid-client 6, ESM-only, hence its own Node process: the jest
// CommonJS runtime cannot load it). RFC 8414 discovery from the issuer alone, then client_credentials with
// client_secret_basic and RFC 8707 `resource`. Input: PROBE_ISSUER, PROBE_CLIENT_ID, PROBE_CLIENT_SECRET,
// PROBE_RESOURCE, PROBE_SCOPE (optional). Output: one JSON line {metadata, tokens} or {error}.
import * as client from 'openid-client';

const env = process.env;
try {
  const config = await client.discovery(
    new URL(env.PROBE_ISSUER),
    env.PROBE_CLIENT_ID,
    undefined,
    client.ClientSecretBasic(env.PROBE_CLIENT_SECRET),
    // The test server is plain http on 127.0.0.1; AgentAuth publishes RFC 8414 metadata (not OIDC's).
    { algorithm: 'oauth2', execute: [client.allowInsecureRequests] },
  );
  const tokens = await client.clientCredentialsGrant(config, {
    resource: env.PROBE_RESOURCE,
    ...(env.PROBE_SCOPE ? { scope: env.PROBE_SCOPE } : {}),
  });
  process.stdout.write(`${JSON.stringify({ metadata: config.serverMetadata(), tokens })}\n`);
} catch (error) {
  process.stdout.write(
    `${JSON.stringify({ error: error instanceof Error ? `${error.name}: ${error.message}` : String(error), code: error?.code, cause: error?.error })}\n`,
  );
  process.exitCode = 1;
}

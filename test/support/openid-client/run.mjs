// A real, unmodified OAuth client (openid-client 6, ESM-only) driven from the integration tests, which run
// Jest in CommonJS mode and cannot load it in-process: `node run.mjs '<json scenario>'` prints one JSON line.
// Everything is found through RFC 8414 discovery from the issuer alone.
//
// Scenario: { issuer, clientId, privateKeyPkcs8 (PEM), alg: RS256|PS256|ES256|EdDSA, kid?, mode }
//   mode "private_key_jwt": client_credentials at the token endpoint, then introspection of the token,
//     both authenticated with PrivateKeyJwt.
//   mode "dpop": the same client authentication, plus a DPoP key pair: a DPoP-bound client_credentials
//     token with offline_access, a refresh with the same DPoP handle, and GET <api>/agents/<clientId> with
//     the refreshed token through fetchProtectedResource (DPoP scheme).
import { webcrypto } from 'node:crypto';
import * as client from 'openid-client';

const scenario = JSON.parse(process.argv[2]);

const ALGORITHMS = {
  RS256: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  PS256: { name: 'RSA-PSS', hash: 'SHA-256' },
  ES256: { name: 'ECDSA', namedCurve: 'P-256' },
  EdDSA: { name: 'Ed25519' },
};

function pemToDer(pem) {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

async function main() {
  const key = await webcrypto.subtle.importKey(
    'pkcs8',
    pemToDer(scenario.privateKeyPkcs8),
    ALGORITHMS[scenario.alg],
    false,
    ['sign'],
  );
  const clientAuth = client.PrivateKeyJwt(scenario.kid ? { key, kid: scenario.kid } : key);
  const config = await client.discovery(new URL(scenario.issuer), scenario.clientId, {}, clientAuth, {
    algorithm: 'oauth2',
    execute: [client.allowInsecureRequests],
  });
  const metadata = config.serverMetadata();
  if (scenario.mode === 'private_key_jwt') {
    const tokens = await client.clientCredentialsGrant(config, { scope: scenario.scope ?? 'agents:read' });
    const introspection = await client.tokenIntrospection(config, tokens.access_token);
    console.log(JSON.stringify({ metadata, tokens, introspection }));
    return;
  }
  if (scenario.mode === 'dpop') {
    const dpopKeys = await client.randomDPoPKeyPair(scenario.dpopAlg ?? 'ES256');
    const DPoP = client.getDPoPHandle(config, dpopKeys);
    const tokens = await client.clientCredentialsGrant(
      config,
      { scope: `${scenario.scope ?? 'agents:read'} offline_access` },
      { DPoP },
    );
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token, {}, { DPoP });
    const url = new URL(`${scenario.apiBase}/agents/${scenario.clientId}`);
    const res = await client.fetchProtectedResource(
      config,
      refreshed.access_token,
      url,
      'GET',
      undefined,
      undefined,
      {
        DPoP,
      },
    );
    const introspection = await client.tokenIntrospection(config, refreshed.access_token);
    const dpopJwk = await webcrypto.subtle.exportKey('jwk', dpopKeys.publicKey);
    console.log(
      JSON.stringify({
        metadata,
        tokens,
        refreshed,
        resource: { status: res.status, body: await res.json() },
        introspection,
        dpopJwk,
      }),
    );
    return;
  }
  throw new Error(`unknown mode ${scenario.mode}`);
}

main().catch((error) => {
  console.log(
    JSON.stringify({
      error: {
        name: error?.name,
        message: error?.message,
        code: error?.code,
        cause: error?.cause?.message ?? null,
      },
    }),
  );
  process.exitCode = 1;
});

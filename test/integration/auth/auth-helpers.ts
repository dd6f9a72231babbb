import { createPublicKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import request from 'supertest';
import type { TestApp } from '../../support/app';
import { activePrivateKey } from '../keys/keys-helpers';
import { API, basicAuth, bearer, claimsOf, type KeyHolder } from '../../factories/agents';

export { claimsOf };

/** POST /auth/token/introspect as `caller` (Basic). */
export function introspect(t: TestApp, caller: KeyHolder, token: string): request.Test {
  return request(t.http)
    .post(`${API}/auth/token/introspect`)
    .set(basicAuth(caller.agent.id, caller.apiKey))
    .type('form')
    .send({ token });
}

/** POST /auth/token/revoke as `caller` (Basic). */
export function revokeToken(
  t: TestApp,
  caller: KeyHolder,
  token: string,
  extra: Record<string, string> = {},
): request.Test {
  return request(t.http)
    .post(`${API}/auth/token/revoke`)
    .set(basicAuth(caller.agent.id, caller.apiKey))
    .type('form')
    .send({ token, ...extra });
}

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** POST /auth/token with the token-exchange grant (RFC 8693): `actor` (Basic) exchanges `subjectToken`. */
export function exchangeToken(
  t: TestApp,
  actor: KeyHolder,
  subjectToken: string,
  extra: Record<string, string> = {},
): request.Test {
  return request(t.http)
    .post(`${API}/auth/token`)
    .set(basicAuth(actor.agent.id, actor.apiKey))
    .type('form')
    .send({
      grant_type: TOKEN_EXCHANGE_GRANT,
      subject_token: subjectToken,
      subject_token_type: ACCESS_TOKEN_TYPE,
      ...extra,
    });
}

/** Is the token active, by introspection? (`caller` must hold tokens:introspect.) */
export async function isActive(t: TestApp, caller: KeyHolder, token: string): Promise<boolean> {
  const res = await introspect(t, caller, token).expect(200);
  return res.body.active === true;
}

/** The management API's answer to the token (GET /agents). */
export async function guardStatus(t: TestApp, token: string): Promise<number> {
  return (await request(t.http).get(`${API}/agents`).query({ limit: 1 }).set(bearer(token))).status;
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * Forged variants of a real token, each refused for one reason (CONTRACT §4 / issue "Done when"). The ones
 * signed with the server's real private key (as an attacker holding it would) isolate the claim checks.
 */
export async function forgeries(t: TestApp, real: string): Promise<Record<string, string>> {
  const [headerPart, payloadPart, signature] = real.split('.');
  const header = JSON.parse(Buffer.from(headerPart, 'base64url').toString()) as Record<string, unknown>;
  const claims = claimsOf(real);
  const now = Math.floor(Date.now() / 1000);
  const { kid, privateKey } = await activePrivateKey(t);
  const signWithRealKey = (payload: Record<string, unknown>, typ = 'at+jwt') =>
    new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid, typ }).sign(privateKey);

  const jwks = (await request(t.http).get(`${API}/auth/jwks`).expect(200)).body as {
    keys: Record<string, string>[];
  };
  const publicPem = createPublicKey({ key: jwks.keys[0], format: 'jwk' })
    .export({ format: 'pem', type: 'spki' })
    .toString();
  const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 });

  return {
    algNone: `${b64({ ...header, alg: 'none' })}.${payloadPart}.`,
    hs256WithPublicKey: await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', kid, typ: 'at+jwt' })
      .sign(Buffer.from(publicPem)),
    unknownKid: await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: `unknown-${randomUUID()}`, typ: 'at+jwt' })
      .sign(stranger.privateKey),
    strangerKeyKnownKid: await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid, typ: 'at+jwt' })
      .sign(stranger.privateKey),
    tamperedPayload: `${headerPart}.${b64({ ...claims, scope: `${claims.scope as string} policies:write` })}.${signature}`,
    tamperedSignature: `${headerPart}.${payloadPart}.${signature.slice(0, -4)}AAAA`,
    wrongIssuer: await signWithRealKey({ ...claims, iss: 'https://evil.example' }),
    wrongAudience: await signWithRealKey({ ...claims, aud: 'https://somebody-else.example' }),
    typJwt: await signWithRealKey(claims, 'JWT'),
    typDelegation: await signWithRealKey(claims, 'delegation+jwt'),
    expired: await signWithRealKey({ ...claims, iat: now - 3600, nbf: now - 3600, exp: now - 1800 }),
    notYetValid: await signWithRealKey({ ...claims, iat: now, nbf: now + 3600, exp: now + 4000 }),
    missingAuthTime: await signWithRealKey({ ...claims, auth_time: undefined }),
    missingClientId: await signWithRealKey({ ...claims, client_id: undefined }),
    garbage: 'not.a.jwt',
  };
}

import { createHash, generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import request from 'supertest';
import { API, type AgentJson, type Caller, type HttpTarget } from './agents';

export type TestKeyAlg = 'RS256' | 'PS256' | 'ES256' | 'EdDSA';

/** A key pair for signing client assertions / DPoP proofs, with its public JWK. */
export interface TestKeyPair {
  alg: TestKeyAlg;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** Public members only (no kid, no alg). */
  publicJwk: Record<string, unknown>;
  /** The private JWK (for the "private key refused" tests). */
  privateJwk: Record<string, unknown>;
}

export function aKeyPair(alg: TestKeyAlg = 'ES256', rsaBits = 2048): TestKeyPair {
  const pair =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : alg === 'EdDSA'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('rsa', { modulusLength: rsaBits });
  return {
    alg,
    privateKey: pair.privateKey,
    publicKey: pair.publicKey,
    publicJwk: pair.publicKey.export({ format: 'jwk' }),
    privateJwk: pair.privateKey.export({ format: 'jwk' }),
  };
}

/** A public-key credential registered for `agent` by `caller`; the response body. */
export async function aPublicKeyCredential(
  t: HttpTarget,
  caller: Caller,
  agent: Pick<AgentJson, 'id'>,
  jwk: Record<string, unknown>,
  body: Record<string, unknown> = {},
): Promise<Record<string, unknown> & { id: string; kid: string; thumbprint: string }> {
  const res = await request(t.http)
    .post(`${API}/credentials`)
    .set(caller.auth)
    .send({ type: 'public_key', agent_id: agent.id, jwk, ...body });
  if (res.status !== 201) throw new Error(`public key: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export interface AssertionOptions {
  /** Claims to add or override (`undefined` removes one). */
  claims?: Record<string, unknown>;
  header?: Record<string, unknown>;
  alg?: string;
  /** Default: the key pair's alg. */
  key?: KeyObject | Uint8Array;
}

/** A client assertion (RFC 7523 §2.2) for `agentId`, valid by default: iss = sub = agent, aud = issuer. */
export async function clientAssertion(
  pair: TestKeyPair,
  agentId: string,
  issuer: string,
  options: AssertionOptions = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    iss: agentId,
    sub: agentId,
    aud: issuer,
    jti: randomUUID(),
    iat: now,
    exp: now + 60,
    ...options.claims,
  };
  for (const [k, v] of Object.entries(claims)) if (v === undefined) delete claims[k];
  return new SignJWT(claims)
    .setProtectedHeader({ alg: options.alg ?? pair.alg, ...options.header })
    .sign(options.key ?? pair.privateKey);
}

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** The body fields of `private_key_jwt` client authentication. */
export function assertionParams(assertion: string): Record<string, string> {
  return { client_assertion_type: JWT_BEARER_ASSERTION, client_assertion: assertion };
}

/** An unsigned (`alg: none`) JWT with these claims. */
export function unsignedJwt(claims: Record<string, unknown>): string {
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${enc({ alg: 'none', typ: 'JWT' })}.${enc(claims)}.`;
}

export interface DpopProofOptions {
  htm?: string;
  /** Absolute URL. */
  htu: string;
  /** The access token the proof accompanies (`ath`). */
  accessToken?: string;
  /** Claims to add or override (`undefined` removes one). */
  claims?: Record<string, unknown>;
  /** Header members to add or override. */
  header?: Record<string, unknown>;
  alg?: string;
  key?: KeyObject | Uint8Array;
}

/** A DPoP proof (RFC 9449 §4.2), valid by default: typ dpop+jwt, the pair's public jwk, fresh iat and jti. */
export async function dpopProof(pair: TestKeyPair, options: DpopProofOptions): Promise<string> {
  const claims: Record<string, unknown> = {
    jti: randomUUID(),
    htm: options.htm ?? 'POST',
    htu: options.htu,
    iat: Math.floor(Date.now() / 1000),
    ...(options.accessToken
      ? { ath: createHash('sha256').update(options.accessToken, 'ascii').digest('base64url') }
      : {}),
    ...options.claims,
  };
  for (const [k, v] of Object.entries(claims)) if (v === undefined) delete claims[k];
  return new SignJWT(claims)
    .setProtectedHeader({
      typ: 'dpop+jwt',
      alg: options.alg ?? pair.alg,
      jwk: pair.publicJwk,
      ...options.header,
    } as never)
    .sign(options.key ?? pair.privateKey);
}

import { importJWK, type JWK, type KeyLike, SignJWT } from 'jose';
import { type Clock, systemClock } from '../clock.js';

/**
 * How a client proves who it is at the token, introspection and revocation endpoints: the two API-key
 * methods of RFC 6749 §2.3.1, or `private_key_jwt` (RFC 7523, CONTRACT §9). `apply` runs before every attempt
 * of a request (a retry gets a new single-use assertion).
 */
export interface ClientAuthentication {
  /** The agent id (`client_id`). */
  readonly clientId: string;
  /** The method's RFC 8414 name, e.g. `client_secret_basic`. */
  readonly method: string;
  /** Adds the client's authentication to a request to `endpoint` of the authorization server `issuer`. */
  apply(request: {
    headers: Headers;
    body: URLSearchParams;
    endpoint: string;
    issuer: string;
  }): Promise<void>;
}

/** RFC 6749 §2.3.1: id and secret are form-urlencoded (ASCII), then joined by ':' and base64-encoded. */
function formEncode(value: string): string {
  return encodeURIComponent(value).replace(/%20/g, '+');
}

/** `client_secret_basic`: the API key in `Authorization: Basic` (the default). */
export function clientSecretBasic(clientId: string, clientSecret: string): ClientAuthentication {
  return {
    clientId,
    method: 'client_secret_basic',
    async apply({ headers }) {
      const pair = `${formEncode(clientId)}:${formEncode(clientSecret)}`;
      headers.set('Authorization', `Basic ${btoa(pair)}`);
    },
  };
}

/** `client_secret_post`: `client_id` and `client_secret` as form fields. */
export function clientSecretPost(clientId: string, clientSecret: string): ClientAuthentication {
  return {
    clientId,
    method: 'client_secret_post',
    async apply({ body }) {
      body.set('client_id', clientId);
      body.set('client_secret', clientSecret);
    },
  };
}

/** The assertion algorithms AgentAuth accepts (CONTRACT §9): asymmetric only, never `none` or HMAC. */
export const PRIVATE_KEY_JWT_ALGS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const;
export type PrivateKeyJwtAlg = (typeof PRIVATE_KEY_JWT_ALGS)[number];

/** A private key: a `KeyObject` (Node), a `CryptoKey` (WebCrypto) or a private JWK. */
export type PrivateKeyInput = KeyLike | JWK;

export interface PrivateKeyJwtOptions {
  /** The agent id: `iss` and `sub` of the assertion. */
  clientId: string;
  /** The private half of a public key registered for the agent (`POST /credentials {type: "public_key"}`). */
  key: PrivateKeyInput;
  /** The registered key's `kid` (sent in the header: the server tries only that key). */
  kid?: string;
  /** Default: from the key (RSA → RS256, RSA-PSS → PS256, P-256 → ES256, Ed25519 → EdDSA). */
  alg?: PrivateKeyJwtAlg;
  /** Lifetime of an assertion in seconds (default 60; the server accepts at most 360). */
  lifetimeSeconds?: number;
  /** Time source of `iat`/`exp` (default: the system clock). */
  clock?: Pick<Clock, 'now'>;
}

function isJwk(key: PrivateKeyInput): key is JWK {
  return typeof (key as JWK).kty === 'string';
}

/** The algorithm a key signs with, when the caller did not say. */
export function algorithmOf(key: PrivateKeyInput): PrivateKeyJwtAlg {
  if (isJwk(key)) {
    if (typeof key.alg === 'string' && (PRIVATE_KEY_JWT_ALGS as readonly string[]).includes(key.alg)) {
      return key.alg as PrivateKeyJwtAlg;
    }
    if (key.kty === 'RSA') return 'RS256';
    if (key.kty === 'EC' && key.crv === 'P-256') return 'ES256';
    if (key.kty === 'OKP' && key.crv === 'Ed25519') return 'EdDSA';
  } else if ('asymmetricKeyType' in key) {
    const type = (key as { asymmetricKeyType?: string }).asymmetricKeyType;
    const curve = (key as { asymmetricKeyDetails?: { namedCurve?: string } }).asymmetricKeyDetails
      ?.namedCurve;
    if (type === 'rsa') return 'RS256';
    if (type === 'rsa-pss') return 'PS256';
    if (type === 'ec' && (curve === 'prime256v1' || curve === 'P-256')) return 'ES256';
    if (type === 'ed25519') return 'EdDSA';
  } else if ('algorithm' in key) {
    const algorithm = (key as { algorithm: { name: string; namedCurve?: string } }).algorithm;
    if (algorithm.name === 'RSASSA-PKCS1-v1_5') return 'RS256';
    if (algorithm.name === 'RSA-PSS') return 'PS256';
    if (algorithm.name === 'ECDSA' && algorithm.namedCurve === 'P-256') return 'ES256';
    if (algorithm.name === 'Ed25519') return 'EdDSA';
  }
  throw new TypeError('unsupported key: give an RSA, EC P-256 or Ed25519 private key (or alg)');
}

/**
 * `private_key_jwt` (RFC 7523 §2.2, CONTRACT §9): a fresh client assertion for every request — `iss` = `sub`
 * = the agent id, `aud` = exactly the issuer (never the endpoint URL), a new `jti`, `exp` a minute ahead —
 * signed with the agent's private key. No secret leaves the process.
 */
export function privateKeyJwt(options: PrivateKeyJwtOptions): ClientAuthentication {
  const { clientId, kid } = options;
  if (!clientId) throw new TypeError('privateKeyJwt needs the clientId (the agent id)');
  if (isJwk(options.key) && typeof options.key.d !== 'string') {
    throw new TypeError('privateKeyJwt needs the private key (a JWK without "d" is a public key)');
  }
  const alg = options.alg ?? algorithmOf(options.key);
  if (!(PRIVATE_KEY_JWT_ALGS as readonly string[]).includes(alg)) {
    throw new TypeError(`unsupported alg ${alg}: one of ${PRIVATE_KEY_JWT_ALGS.join(', ')}`);
  }
  const lifetime = options.lifetimeSeconds ?? 60;
  if (!(lifetime > 0 && lifetime <= 360)) throw new TypeError('lifetimeSeconds must be in (0, 360]');
  const clock = options.clock ?? systemClock;
  const input = options.key;
  let signingKey: Promise<KeyLike | Uint8Array> | undefined;
  return {
    clientId,
    method: 'private_key_jwt',
    async apply({ body, issuer }) {
      signingKey ??= isJwk(input) ? importJWK(input, alg) : Promise.resolve(input);
      const now = Math.floor(clock.now() / 1000);
      const assertion = await new SignJWT({ jti: globalThis.crypto.randomUUID() })
        .setProtectedHeader({ alg, typ: 'JWT', ...(kid ? { kid } : {}) })
        .setIssuer(clientId)
        .setSubject(clientId)
        .setAudience(issuer)
        .setIssuedAt(now)
        .setExpirationTime(now + lifetime)
        .sign(await signingKey);
      body.set('client_id', clientId);
      body.set('client_assertion_type', JWT_BEARER_ASSERTION_TYPE);
      body.set('client_assertion', assertion);
    },
  };
}

/** RFC 7521 §4.2's assertion type for a JWT client assertion. */
export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

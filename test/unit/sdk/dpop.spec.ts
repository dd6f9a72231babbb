import { createHash, generateKeyPairSync } from 'node:crypto';
import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import {
  AgentAuthClient,
  DpopProofError,
  DpopReplayCache,
  refusalFor,
  TokenVerificationError,
  verifyDpopProof,
} from '@agentauth/sdk';
import { FakeClock, FakeServer, ISSUER, json, TOKEN_ENDPOINT, tokenResponse } from './fake-server';

const TOKEN = 'POST /api/v1/auth/token';
const URL_ = 'https://rs.example.test/api/files';

function aPair() {
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...pair, publicJwk: pair.publicKey.export({ format: 'jwk' }) };
}

const ath = (token: string) => createHash('sha256').update(token, 'ascii').digest('base64url');

describe('DPoP', () => {
  describe('verifyDpopProof (resource server)', () => {
    const pair = aPair();
    let clock: FakeClock;
    let replay: DpopReplayCache;
    let jkt: string;
    beforeEach(async () => {
      clock = new FakeClock();
      replay = new DpopReplayCache(1000, clock);
      jkt = await calculateJwkThumbprint(pair.publicJwk as never);
    });
    const proof = (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) =>
      new SignJWT({
        jti: `j-${Math.random()}`,
        htm: 'GET',
        htu: URL_,
        iat: clock.now() / 1000,
        ath: ath('tok'),
        ...claims,
      })
        .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: pair.publicJwk, ...header } as never)
        .sign(pair.privateKey);
    const check = async (p: string | string[] | undefined, request: Record<string, string> = {}) =>
      verifyDpopProof(
        p,
        { method: 'GET', url: `${URL_}?q=1`, accessToken: 'tok', jkt, ...request },
        { replay, clock },
      );
    const reason = (p: Promise<void>) =>
      p.then(
        () => 'accepted',
        (e: unknown) => (e instanceof DpopProofError ? e.reason : `unexpected ${String(e)}`),
      );

    it('accepts a valid proof once (the query is not part of htu), and again after the replay entry expired', async () => {
      const valid = await proof();
      await expect(check(valid)).resolves.toBeUndefined();
      expect(await reason(check(valid))).toBe('replayed');
      expect(replay.size).toBe(1);
      // The entry lives as long as the proof could pass the iat check; then the proof is stale anyway.
      clock.advance(66_000);
      expect(await reason(check(valid))).toBe('iat outside the window');
    });

    it('refuses each broken property', async () => {
      const other = aPair();
      const hmac = await new SignJWT({ jti: 'x', htm: 'GET', htu: URL_, iat: clock.now() / 1000 })
        .setProtectedHeader({ typ: 'dpop+jwt', alg: 'HS256' })
        .sign(new Uint8Array(32));
      const cases: [string, () => Promise<void>, string][] = [
        ['none', async () => check(undefined), 'DPoP proof required'],
        ['two headers', async () => check([await proof(), await proof()]), 'more than one DPoP proof'],
        ['garbage', async () => check('not.a.jwt'), 'malformed'],
        ['typ', async () => check(await proof({}, { typ: 'JWT' })), 'typ is not dpop+jwt'],
        ['HMAC', async () => check(hmac), 'alg not allowed'],
        ['no jwk', async () => check(await proof({}, { jwk: undefined })), 'no jwk'],
        [
          'private jwk',
          async () => check(await proof({}, { jwk: pair.privateKey.export({ format: 'jwk' }) })),
          'jwk is not a public key',
        ],
        ['wrong signer', async () => check(await proof({}, { jwk: other.publicJwk })), 'signature'],
        ['htm', async () => check(await proof({ htm: 'POST' })), 'htm does not match'],
        [
          'htu',
          async () => check(await proof({ htu: 'https://rs.example.test/api/other' })),
          'htu does not match',
        ],
        [
          'htu host',
          async () => check(await proof({ htu: 'https://evil.example/api/files' })),
          'htu does not match',
        ],
        [
          'iat future',
          async () => check(await proof({ iat: clock.now() / 1000 + 120 })),
          'iat outside the window',
        ],
        [
          'iat past',
          async () => check(await proof({ iat: clock.now() / 1000 - 120 })),
          'iat outside the window',
        ],
        ['no iat', async () => check(await proof({ iat: undefined })), 'iat outside the window'],
        ['no jti', async () => check(await proof({ jti: undefined })), 'jti'],
        ['ath', async () => check(await proof({ ath: ath('other') })), 'ath does not match the token'],
        [
          'jkt',
          async () => check(await proof(), { jkt: 'another-thumbprint' }),
          'key is not the one the token is bound to',
        ],
      ];
      for (const [label, outcome, expected] of cases) {
        expect({ label, reason: await reason(outcome()) }).toEqual({ label, reason: expected });
      }
    });

    it('fails closed when the replay cache is full of live entries, and purges expired ones', async () => {
      replay = new DpopReplayCache(1, clock);
      await check(await proof());
      expect(await reason(check(await proof()))).toBe('replay cache full');
      clock.advance(70_000);
      await expect(check(await proof())).resolves.toBeUndefined();
    });

    it('answers invalid_dpop_proof with a DPoP challenge listing the algorithms', () => {
      const refusal = refusalFor(
        new TokenVerificationError('invalid_dpop_proof', 'invalid DPoP proof: htu'),
        {
          resourceMetadataUrl: 'https://rs.example.test/.well-known/oauth-protected-resource/api',
        },
      );
      expect(refusal.status).toBe(401);
      expect(refusal.headers['WWW-Authenticate']).toBe(
        'DPoP resource_metadata="https://rs.example.test/.well-known/oauth-protected-resource/api", error="invalid_dpop_proof", error_description="invalid DPoP proof: htu", algs="RS256 PS256 ES256 EdDSA"',
      );
    });
  });

  describe('AgentAuthClient with dpop', () => {
    function setup() {
      const server = new FakeServer();
      const clock = new FakeClock(Date.now());
      const pair = aPair();
      const client = new AgentAuthClient({
        issuer: ISSUER,
        clientId: 'agent-1',
        clientSecret: 'aa_secret',
        fetch: server.fetch,
        clock,
        random: () => 1,
        dpop: { keyPair: { privateKey: pair.privateKey, publicKey: pair.publicKey } },
      });
      return { server, client, pair };
    }

    it('sends a proof to the token endpoint (htm POST, htu = the endpoint, the public jwk) and a new one per attempt', async () => {
      const { server, client, pair } = setup();
      const answers = [json({}, 503), tokenResponse({ token_type: 'DPoP' })];
      server.on(TOKEN, () => answers.shift()!);
      await client.getToken();
      const proofs = server.tokenRequests().map((r) => r.headers.get('dpop')!);
      expect(proofs).toHaveLength(2);
      const header = decodeProtectedHeader(proofs[0]);
      expect(header).toMatchObject({ typ: 'dpop+jwt', alg: 'ES256' });
      expect(header.jwk).toEqual({ kty: 'EC', crv: 'P-256', x: pair.publicJwk.x, y: pair.publicJwk.y });
      expect(decodeJwt(proofs[0])).toMatchObject({ htm: 'POST', htu: TOKEN_ENDPOINT });
      expect(decodeJwt(proofs[0])).not.toHaveProperty('ath');
      expect(decodeJwt(proofs[1]).jti).not.toBe(decodeJwt(proofs[0]).jti);
      expect(await client.dpopThumbprint()).toBe(await calculateJwkThumbprint(pair.publicJwk as never));
    });

    it('retries once with the server nonce on use_dpop_nonce (token endpoint and resource)', async () => {
      const { server, client } = setup();
      let tokenCalls = 0;
      server.on(TOKEN, () =>
        tokenCalls++ === 0
          ? json({ error: 'use_dpop_nonce' }, 400, { 'DPoP-Nonce': 'n1' })
          : tokenResponse({ token_type: 'DPoP' }),
      );
      let resourceCalls = 0;
      server.on('GET /api/v1/agents', () =>
        resourceCalls++ === 0
          ? new Response(null, {
              status: 401,
              headers: { 'WWW-Authenticate': 'DPoP error="use_dpop_nonce"', 'DPoP-Nonce': 'n2' },
            })
          : json({ items: [] }),
      );
      const res = await client.fetch(`${ISSUER}/api/v1/agents?limit=1`);
      expect(res.status).toBe(200);
      const tokenProofs = server.tokenRequests().map((r) => decodeJwt(r.headers.get('dpop')!));
      expect(tokenProofs.map((p) => p.nonce)).toEqual([undefined, 'n1']);
      const calls = server.requests.filter((r) => r.url.includes('/agents'));
      expect(calls.map((r) => r.headers.get('authorization'))).toEqual(['DPoP token-0', 'DPoP token-0']);
      const resourceProofs = calls.map((r) => decodeJwt(r.headers.get('dpop')!));
      expect(resourceProofs.map((p) => p.nonce)).toEqual(['n1', 'n2']);
      expect(resourceProofs[0]).toMatchObject({
        htm: 'GET',
        htu: `${ISSUER}/api/v1/agents`,
        ath: ath('token-0'),
      });
    });

    it('does not retry a nonce refusal that repeats the nonce it already used', async () => {
      const { server, client } = setup();
      server.on(TOKEN, () => json({ error: 'use_dpop_nonce' }, 400, { 'DPoP-Nonce': 'same' }));
      await expect(client.getToken()).rejects.toMatchObject({ error: 'use_dpop_nonce' });
      expect(server.tokenRequests()).toHaveLength(2);
    });

    it('sends a Bearer token without a proof when the server did not bind it', async () => {
      const { server, client } = setup();
      server.on(TOKEN, () => tokenResponse());
      server.on('GET /api/v1/agents', () => json({ items: [] }));
      await client.fetch(`${ISSUER}/api/v1/agents`);
      const call = server.requests.find((r) => r.url.endsWith('/agents'))!;
      expect(call.headers.get('authorization')).toBe('Bearer token-0');
      expect(call.headers.get('dpop')).toBeNull();
    });
  });
});

import { generateKeyPairSync } from 'node:crypto';
import { compactVerify, decodeProtectedHeader, jwtVerify } from 'jose';
import {
  decodeJsonObject,
  parseCompactJws,
  rs256SignatureValid,
  signRs256,
} from '../../../libs/keys/src/compact-jws';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
const header = { alg: 'RS256', kid: 'k1', typ: 'at+jwt' };
const payload = { sub: 'agent', scope: 'agents:read', ü: 'ß ✓', n: 1, exp: 2_000_000_000 };

describe('RS256 compact JWS (the tokens this server signs)', () => {
  it('signs what jose verifies: the same header and payload, byte for byte', async () => {
    const jws = signRs256(header, payload, privateKey);
    const verified = await compactVerify(jws, publicKey);
    expect(verified.protectedHeader).toEqual(header);
    expect(JSON.parse(Buffer.from(verified.payload).toString('utf8'))).toEqual(payload);
    expect(jws.split('.')[0]).toBe(Buffer.from(JSON.stringify(header)).toString('base64url'));
    expect(decodeProtectedHeader(jws)).toEqual(header);
    const { payload: claims } = await jwtVerify(jws, publicKey, { typ: 'at+jwt' });
    expect(claims).toEqual(payload);
  });

  it('verifies its own signature and refuses a tampered payload or another key', () => {
    const jws = signRs256(header, payload, privateKey);
    const parsed = parseCompactJws(jws)!;
    expect(parsed.header).toEqual(header);
    expect(rs256SignatureValid(parsed, publicKey)).toBe(true);
    expect(rs256SignatureValid(parsed, other.publicKey)).toBe(false);
    const [h, , sig] = jws.split('.');
    const widened = Buffer.from(JSON.stringify({ ...payload, scope: 'agents:write' })).toString('base64url');
    expect(rs256SignatureValid(parseCompactJws(`${h}.${widened}.${sig}`)!, publicKey)).toBe(false);
    expect(rs256SignatureValid(parseCompactJws(`${h}.${jws.split('.')[1]}.`)!, publicKey)).toBe(false);
  });

  it('parses only three base64url parts with a JSON-object header', () => {
    const jws = signRs256(header, payload, privateKey);
    const [h, p, s] = jws.split('.');
    const array = Buffer.from('[1]').toString('base64url');
    const notJson = Buffer.from('{nope').toString('base64url');
    for (const bad of [
      `${h}.${p}`,
      `${h}.${p}.${s}.x`,
      `${h}=.${p}.${s}`,
      `${h}.${p}+.${s}`,
      `${h}.${p}.${s}/`,
      `${h}.${p} .${s}`,
      `.${p}.${s}`,
      `${h}..${s}`,
      `${array}.${p}.${s}`,
      `${notJson}.${p}.${s}`,
    ]) {
      expect({ bad, parsed: parseCompactJws(bad) }).toEqual({ bad, parsed: undefined });
    }
    expect(parseCompactJws(`${h}.${p}.`)?.signature.length).toBe(0);
  });

  it('decodes JSON objects only', () => {
    const encode = (text: string) => Buffer.from(text).toString('base64url');
    expect(decodeJsonObject(encode('{"a":1}'))).toEqual({ a: 1 });
    for (const text of ['[]', 'null', '1', '"s"', '{'])
      expect(decodeJsonObject(encode(text))).toBeUndefined();
    expect(decodeJsonObject('e30=')).toBeUndefined();
  });
});

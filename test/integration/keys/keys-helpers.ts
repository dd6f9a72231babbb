import { createPrivateKey, type KeyObject } from 'node:crypto';
import { Clock, decryptToString } from '@agentauth/core';
import { SigningKeysService, signingKeyEncryptionKey, TokenSigner, TokenVerifier } from '@agentauth/keys';
import type { TestApp } from '../../support/app';
import { ownerQuery } from '../../support/owner-db';

/** Empties `signing_keys` (as the owner): the next app start creates a fresh active key. */
export async function resetSigningKeys(): Promise<void> {
  await ownerQuery('DELETE FROM signing_keys');
}

export function services(t: TestApp) {
  return {
    keys: t.app.get(SigningKeysService),
    signer: t.app.get(TokenSigner),
    verifier: t.app.get(TokenVerifier),
    clock: t.app.get(Clock),
  };
}

export interface StoredKeyRow {
  kid: string;
  state: string;
  public_jwk: Record<string, string>;
  private_key_encrypted: string | null;
  activates_at: Date;
  retire_after: Date | null;
  max_delegation_exp: Date | null;
}

export async function keyRows(): Promise<StoredKeyRow[]> {
  return ownerQuery<StoredKeyRow>('SELECT * FROM signing_keys ORDER BY created_at');
}

/** The active private key as an attacker with database access AND the SECRET_KEY would have it. */
export async function activePrivateKey(t: TestApp): Promise<{ kid: string; privateKey: KeyObject }> {
  const [row] = await ownerQuery<StoredKeyRow>(`SELECT * FROM signing_keys WHERE state = 'active'`);
  const pem = decryptToString(
    row.private_key_encrypted!,
    signingKeyEncryptionKey(t.config.secretKey),
    `signing-key:${row.kid}`,
  );
  return { kid: row.kid, privateKey: createPrivateKey(pem) };
}

export const baseClaims = (over: Record<string, unknown> = {}) => ({
  sub: '6f1c1f5e-0000-4000-8000-000000000001',
  client_id: '6f1c1f5e-0000-4000-8000-000000000001',
  aud: 'agentauth',
  scope: 'agents:read',
  ...over,
});

import { Injectable } from '@nestjs/common';
import type { KeyObject } from 'node:crypto';
import type { PublicSigningJwk } from './key-material';
import type { SigningKeyState } from './signing-keys.repository';

/** A key as this process holds it: imported once, used for every sign/verify until it leaves the set. */
export interface RingKey {
  kid: string;
  state: Exclude<SigningKeyState, 'retired'>;
  publicJwk: PublicSigningJwk;
  publicKey: KeyObject;
  /** Present for keys that may sign (active, retiring); published keys are not decrypted before they activate. */
  privateKey?: KeyObject;
  activatesAtMs: number;
  retireAfterMs: number | null;
}

const JWKS_ORDER: Record<RingKey['state'], number> = { active: 0, published: 1, retiring: 2 };

/**
 * The in-memory key set of one process. Replaced atomically on every refresh (pub/sub message, periodic
 * tick, unknown kid), read without I/O on every sign and verify.
 */
@Injectable()
export class KeyRing {
  private byKid = new Map<string, RingKey>();
  /** Keys that may sign, best first: the active key, then retiring keys from the most recently activated. */
  private signers: RingKey[] = [];
  private jwksCache: PublicSigningJwk[] = [];
  private loadedAtMs = 0;

  replace(keys: RingKey[], nowMs: number): void {
    this.byKid = new Map(keys.map((k) => [k.kid, k]));
    this.signers = keys
      .filter((k) => k.privateKey && (k.state === 'active' || k.state === 'retiring'))
      .sort((a, b) =>
        a.state !== b.state ? (a.state === 'active' ? -1 : 1) : b.activatesAtMs - a.activatesAtMs,
      );
    this.jwksCache = [...keys]
      .sort((a, b) => JWKS_ORDER[a.state] - JWKS_ORDER[b.state] || b.activatesAtMs - a.activatesAtMs)
      .map((k) => k.publicJwk);
    this.loadedAtMs = nowMs;
  }

  get(kid: string): RingKey | undefined {
    return this.byKid.get(kid);
  }

  /** Public key for verification: published, active and retiring keys (retired keys are gone). */
  verificationKey(kid: string): KeyObject | undefined {
    return this.byKid.get(kid)?.publicKey;
  }

  /**
   * The key to sign with now. Never a key before its `activates_at` by this process's clock: while another
   * process already promoted a new key that is not yet due here, the previous key keeps signing, as long as
   * a token of `tokenLifetimeMs` it signs now still expires before that key leaves JWKS.
   */
  signingKey(nowMs: number, tokenLifetimeMs: number): RingKey | undefined {
    for (const key of this.signers) {
      if (key.activatesAtMs > nowMs) continue;
      if (key.state === 'active') return key;
      if (key.retireAfterMs !== null && nowMs + tokenLifetimeMs <= key.retireAfterMs) return key;
    }
    return undefined;
  }

  /** JWKS `keys`: active first, then published, then retiring. */
  jwks(): readonly PublicSigningJwk[] {
    return this.jwksCache;
  }

  all(): RingKey[] {
    return [...this.byKid.values()];
  }

  /** True when a state change is due (a published key to activate, a retiring key to retire). */
  hasDueTransition(nowMs: number): boolean {
    return this.all().some(
      (k) =>
        (k.state === 'published' && k.activatesAtMs <= nowMs) ||
        (k.state === 'retiring' && k.retireAfterMs !== null && k.retireAfterMs <= nowMs),
    );
  }

  get lastLoadedAtMs(): number {
    return this.loadedAtMs;
  }
}

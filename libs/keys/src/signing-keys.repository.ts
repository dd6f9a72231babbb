import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { PublicSigningJwk } from './key-material';

export type SigningKeyState = 'published' | 'active' | 'retiring' | 'retired';

/** One `signing_keys` row (the private key stays encrypted here; it is decrypted only into the ring). */
export interface SigningKeyRow {
  kid: string;
  state: SigningKeyState;
  publicJwk: PublicSigningJwk;
  privateKeyEncrypted: string | null;
  createdAt: Date;
  activatesAt: Date;
  retiringAt: Date | null;
  retireAfter: Date | null;
  retiredAt: Date | null;
  maxDelegationExp: Date | null;
}

interface RawRow {
  kid: string;
  state: SigningKeyState;
  public_jwk: PublicSigningJwk;
  private_key_encrypted: string | null;
  created_at: Date;
  activates_at: Date;
  retiring_at: Date | null;
  retire_after: Date | null;
  retired_at: Date | null;
  max_delegation_exp: Date | null;
}

const COLUMNS = `kid, state, public_jwk, private_key_encrypted, created_at, activates_at, retiring_at, retire_after,
  retired_at, max_delegation_exp`;

function toRow(r: RawRow): SigningKeyRow {
  return {
    kid: r.kid,
    state: r.state,
    publicJwk: r.public_jwk,
    privateKeyEncrypted: r.private_key_encrypted,
    createdAt: r.created_at,
    activatesAt: r.activates_at,
    retiringAt: r.retiring_at,
    retireAfter: r.retire_after,
    retiredAt: r.retired_at,
    maxDelegationExp: r.max_delegation_exp,
  };
}

/** Serialises every state change of the key set across processes (transaction-scoped advisory lock). */
const SIGNING_KEYS_LOCK = 7_263_541_001;

export interface NewSigningKey {
  kid: string;
  state: 'published' | 'active';
  publicJwk: PublicSigningJwk;
  privateKeyEncrypted: string;
  createdAt: Date;
  activatesAt: Date;
}

/**
 * Every query of the signing-key set. Signing keys are server-wide (not tenant data), so there is no tree
 * scope here. State changes run inside `inLockedTransaction`.
 */
@Injectable()
export class SigningKeysRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Runs `work` in one transaction holding the key-set lock: concurrent rotations/start-ups queue up. */
  inLockedTransaction<T>(work: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock($1)', [SIGNING_KEYS_LOCK]);
      return work(m);
    });
  }

  /** Keys that are in JWKS (published, active, retiring). */
  async findLive(): Promise<SigningKeyRow[]> {
    const rows: RawRow[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM signing_keys WHERE state <> 'retired' ORDER BY activates_at DESC, kid`,
    );
    return rows.map(toRow);
  }

  async findAll(): Promise<SigningKeyRow[]> {
    const rows: RawRow[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM signing_keys ORDER BY created_at DESC, kid`,
    );
    return rows.map(toRow);
  }

  async findActive(m: EntityManager): Promise<SigningKeyRow | undefined> {
    const rows: RawRow[] = await m.query(`SELECT ${COLUMNS} FROM signing_keys WHERE state = 'active'`);
    return rows.map(toRow)[0];
  }

  async findPublished(m: EntityManager): Promise<SigningKeyRow[]> {
    const rows: RawRow[] = await m.query(
      `SELECT ${COLUMNS} FROM signing_keys WHERE state = 'published' ORDER BY activates_at DESC, kid`,
    );
    return rows.map(toRow);
  }

  async insert(m: EntityManager, key: NewSigningKey): Promise<SigningKeyRow> {
    const rows: RawRow[] = await m.query(
      `INSERT INTO signing_keys (kid, alg, public_jwk, private_key_encrypted, state, created_at, activates_at)
       VALUES ($1, 'RS256', $2, $3, $4, $5, $6)
       RETURNING ${COLUMNS}`,
      [
        key.kid,
        JSON.stringify(key.publicJwk),
        key.privateKeyEncrypted,
        key.state,
        key.createdAt,
        key.activatesAt,
      ],
    );
    return toRow(rows[0]);
  }

  /**
   * active → retiring. It stays verifiable until `retire_after`: at least `minRetireAfter`, and never before
   * the last delegation token it signed has expired (plus `skewMs`).
   */
  async retireActive(m: EntityManager, now: Date, minRetireAfter: Date, skewMs: number): Promise<string[]> {
    // UPDATE answers [rows, affected] through TypeORM's postgres driver.
    const [rows]: [{ kid: string }[], number] = await m.query(
      `UPDATE signing_keys
          SET state = 'retiring', retiring_at = $1,
              retire_after = GREATEST($2::timestamptz, max_delegation_exp + make_interval(secs => $3::double precision / 1000))
        WHERE state = 'active'
        RETURNING kid`,
      [now, minRetireAfter, skewMs],
    );
    return rows.map((r) => r.kid);
  }

  async activate(m: EntityManager, kid: string): Promise<void> {
    await m.query(`UPDATE signing_keys SET state = 'active' WHERE kid = $1 AND state = 'published'`, [kid]);
  }

  /** Published keys that were overtaken by a newer due key: they never signed, so they leave at once. */
  async retireUnused(m: EntityManager, kids: string[], now: Date): Promise<void> {
    if (kids.length === 0) return;
    await m.query(
      `UPDATE signing_keys
          SET state = 'retired', retiring_at = $2, retire_after = $2, retired_at = $2, private_key_encrypted = NULL
        WHERE kid = ANY($1) AND state = 'published'`,
      [kids, now],
    );
  }

  /** retiring → retired once `retire_after` passed; the private key is erased (it can never sign again). */
  async retireExpired(m: EntityManager, now: Date): Promise<string[]> {
    // UPDATE answers [rows, affected] through TypeORM's postgres driver.
    const [rows]: [{ kid: string }[], number] = await m.query(
      `UPDATE signing_keys
          SET state = 'retired', retired_at = $1, private_key_encrypted = NULL
        WHERE state = 'retiring' AND retire_after <= $1
        RETURNING kid`,
      [now],
    );
    return rows.map((r) => r.kid);
  }

  /**
   * Records that `kid` signed a delegation token valid until `expiresAt`: `max_delegation_exp` only grows, and
   * a key already retiring keeps verifying until then (+ skew). False when the key can no longer sign.
   */
  async extendForDelegation(kid: string, expiresAt: Date, skewMs: number): Promise<boolean> {
    // UPDATE answers [rows, affected] through TypeORM's postgres driver.
    const [rows]: [{ kid: string }[], number] = await this.dataSource.query(
      `UPDATE signing_keys
          SET max_delegation_exp = GREATEST(max_delegation_exp, $2::timestamptz),
              retire_after = CASE WHEN retire_after IS NULL THEN NULL
                                  ELSE GREATEST(retire_after, $2::timestamptz + make_interval(secs => $3::double precision / 1000)) END
        WHERE kid = $1 AND state IN ('active', 'retiring')
        RETURNING kid`,
      [kid, expiresAt, skewMs],
    );
    return rows.length === 1;
  }
}

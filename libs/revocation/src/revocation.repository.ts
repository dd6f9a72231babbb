import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { RevocationKind, RevocationRef, StoredMarker } from './revocation-marker';

interface RawMarker {
  kind: RevocationKind;
  subject_id: string;
  revoked_at: Date;
  expires_at: Date | null;
}

function toMarker(r: RawMarker): StoredMarker {
  return {
    kind: r.kind,
    id: r.subject_id,
    revokedAtMs: r.revoked_at.getTime(),
    expiresAtMs: r.expires_at ? r.expires_at.getTime() : null,
  };
}

/**
 * The durable revocation state. Revocations are server-wide facts about ids (a token, an agent, …) that
 * the caller already resolved within its tree, so queries here are keyed by (kind, id) only.
 */
@Injectable()
export class RevocationRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * One statement: inserts the markers or moves existing ones forward (`revoked_at` only grows; a
   * permanent marker stays permanent). Returns the rows as stored.
   */
  async upsert(markers: readonly StoredMarker[], manager?: EntityManager): Promise<StoredMarker[]> {
    const rows: RawMarker[] = await (manager ?? this.dataSource.manager).query(
      `INSERT INTO revocations (kind, subject_id, revoked_at, expires_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[])
       ON CONFLICT (kind, subject_id) DO UPDATE SET
         revoked_at = GREATEST(revocations.revoked_at, EXCLUDED.revoked_at),
         expires_at = CASE WHEN revocations.expires_at IS NULL OR EXCLUDED.expires_at IS NULL THEN NULL
                           ELSE GREATEST(revocations.expires_at, EXCLUDED.expires_at) END
       RETURNING kind, subject_id, revoked_at, expires_at`,
      [
        markers.map((m) => m.kind),
        markers.map((m) => m.id),
        markers.map((m) => new Date(m.revokedAtMs)),
        markers.map((m) => (m.expiresAtMs === null ? null : new Date(m.expiresAtMs))),
      ],
    );
    return rows.map(toMarker);
  }

  /** The stored markers among `refs` (one primary-key lookup per ref, one round trip). */
  async findMatching(refs: readonly RevocationRef[]): Promise<StoredMarker[]> {
    const rows: RawMarker[] = await this.dataSource.query(
      `SELECT kind, subject_id, revoked_at, expires_at FROM revocations
        WHERE (kind, subject_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
      [refs.map((r) => r.kind), refs.map((r) => r.id)],
    );
    return rows.map(toMarker);
  }

  /** Keyset-paged read of every marker still able to match a token (expiry after `notExpiredBefore`). */
  async loadChunk(
    after: { kind: string; id: string } | null,
    limit: number,
    notExpiredBefore: Date,
  ): Promise<StoredMarker[]> {
    const rows: RawMarker[] = await this.dataSource.query(
      `SELECT kind, subject_id, revoked_at, expires_at FROM revocations
        WHERE (expires_at IS NULL OR expires_at > $3)
          AND ($1::text IS NULL OR (kind, subject_id) > ($1::text, $2::text))
        ORDER BY kind, subject_id
        LIMIT $4`,
      [after?.kind ?? null, after?.id ?? null, notExpiredBefore, limit],
    );
    return rows.map(toMarker);
  }

  /** Deletes markers that expired before `before`; returns how many. */
  async purgeExpired(before: Date): Promise<number> {
    const [, count]: [unknown, number] = await this.dataSource.query(
      `DELETE FROM revocations WHERE expires_at IS NOT NULL AND expires_at < $1`,
      [before],
    );
    return count;
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * DPoP (RFC 9449, CONTRACT §10): `agents.require_dpop` (a governed field; inherited — an agent requires DPoP
 * when it or any ancestor has it set) and `refresh_families.dpop_jkt` (the RFC 7638 thumbprint of the key a
 * family is bound to: refreshing needs a proof by that key).
 */
export class Dpop1764520100000 implements MigrationInterface {
  name = 'Dpop1764520100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE agents ADD COLUMN require_dpop boolean NOT NULL DEFAULT false`);
    await q.query(`
      ALTER TABLE refresh_families ADD COLUMN dpop_jkt text NULL
        CONSTRAINT refresh_families_dpop_jkt_shape CHECK (dpop_jkt ~ '^[A-Za-z0-9_-]{43}$')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE refresh_families DROP COLUMN dpop_jkt`);
    await q.query(`ALTER TABLE agents DROP COLUMN require_dpop`);
  }
}

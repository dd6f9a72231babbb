import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `resource_servers.dpop_required` (CONTRACT §8, §10): every token for such a server is DPoP-bound — a token
 * request naming it without a proof is refused (400 `invalid_dpop_proof`, "DPoP proof required").
 */
export class ResourceServerDpopRequired1764520200000 implements MigrationInterface {
  name = 'ResourceServerDpopRequired1764520200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE resource_servers ADD COLUMN dpop_required boolean NOT NULL DEFAULT false`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE resource_servers DROP COLUMN dpop_required`);
  }
}

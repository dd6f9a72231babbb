import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 17, finding 4 (CONTRACT §2): suspending an agent ends, for good, every refresh family in which it
 * or a descendant is `sub`, `client_id` or a member of `act`. A family named its client and subject in
 * columns but kept its `act` chain only as JSON, so a suspended middle delegate (R → B → C: `act` = C, B)
 * left C's family alive, and re-activating B revived it. `chain_agent_ids` holds every agent the family
 * acts through (client, subject, each `act` member's `sub` and `client_id`); the cascade finds families by
 * membership (`&&`) through a GIN index. Existing families are back-filled from their `act` JSON.
 */
export class RefreshFamilyChain1764500000000 implements MigrationInterface {
  name = 'RefreshFamilyChain1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE refresh_families ADD COLUMN chain_agent_ids uuid[] NOT NULL DEFAULT '{}'`);
    await q.query(
      `UPDATE refresh_families f SET chain_agent_ids = ARRAY(
         SELECT DISTINCT member FROM (
           SELECT f.client_agent_id AS member
           UNION ALL SELECT f.subject_agent_id
           UNION ALL SELECT (jsonb_path_query(f.act, 'strict $.**.sub') #>> '{}')::uuid
           UNION ALL SELECT (jsonb_path_query(f.act, 'strict $.**.client_id') #>> '{}')::uuid
         ) members WHERE member IS NOT NULL)`,
    );
    await q.query(`ALTER TABLE refresh_families ALTER COLUMN chain_agent_ids DROP DEFAULT`);
    await q.query(
      `ALTER TABLE refresh_families ADD CONSTRAINT refresh_families_chain_names_parties
         CHECK (client_agent_id = ANY (chain_agent_ids) AND subject_agent_id = ANY (chain_agent_ids))`,
    );
    await q.query(
      `CREATE INDEX refresh_families_chain_idx ON refresh_families USING gin (chain_agent_ids)
         WHERE status = 'active'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX refresh_families_chain_idx`);
    await q.query(`ALTER TABLE refresh_families DROP CONSTRAINT refresh_families_chain_names_parties`);
    await q.query(`ALTER TABLE refresh_families DROP COLUMN chain_agent_ids`);
  }
}

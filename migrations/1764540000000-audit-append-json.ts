import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `audit_append_json(batch json)`: the group-commit writer's batch as ONE JSON parameter (an array of
 * objects, one per event, in chain order) instead of fifteen array parameters. node-postgres turns every
 * array parameter into an array literal in JavaScript, escaping each element with two regular expressions
 * — ~40 µs of the API's CPU per event, measured (docs/performance.md, "Fifth session"); one
 * `JSON.stringify` of the batch is native and costs a few.
 *
 * It unpacks the batch in input order and calls `audit_append` — the one implementation of the chain (lock,
 * head, idempotent retry, hash, single INSERT), unchanged. PL/pgSQL, not SQL: a SQL function's body is planned
 * again on every call, PL/pgSQL keeps its plan for the session (measured: 100–170 µs of PostgreSQL's CPU per
 * batch less). `audit_append` stays callable: processes of the
 * previous release keep using it during a rolling deploy.
 *
 * Each object's members: `id`, `occurred_at`, `event_type`, `outcome`, `actor_agent_id`, `on_behalf_of`,
 * `target_type`, `target_id`, `root_agent_id`, `ip`, `request_id` (strings or null), `details` (a JSON
 * object, stored as jsonb) and the canonical text's `head`, `middle`, `tail` (libs/audit/src/audit-chain.ts).
 */
export class AuditAppendJson1764540000000 implements MigrationInterface {
  name = 'AuditAppendJson1764540000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION audit_append_json(p_batch json)
        RETURNS TABLE (id uuid, seq bigint, prev_hash text, hash text)
        LANGUAGE plpgsql VOLATILE SECURITY INVOKER AS $$
      DECLARE
        batch record;
      BEGIN
        SELECT array_agg(e.id ORDER BY e.n) AS ids,
               array_agg(e.occurred_at ORDER BY e.n) AS occurred_ats,
               array_agg(e.event_type ORDER BY e.n) AS event_types,
               array_agg(e.outcome ORDER BY e.n) AS outcomes,
               array_agg(e.actor_agent_id ORDER BY e.n) AS actor_agent_ids,
               array_agg(e.on_behalf_of ORDER BY e.n) AS on_behalf_ofs,
               array_agg(e.target_type ORDER BY e.n) AS target_types,
               array_agg(e.target_id ORDER BY e.n) AS target_ids,
               array_agg(e.root_agent_id ORDER BY e.n) AS root_agent_ids,
               array_agg(e.ip ORDER BY e.n) AS ips,
               array_agg(e.request_id ORDER BY e.n) AS request_ids,
               array_agg(coalesce(e.details, '{}'::jsonb) ORDER BY e.n) AS detailss,
               array_agg(e.head ORDER BY e.n) AS heads,
               array_agg(e.middle ORDER BY e.n) AS middles,
               array_agg(e.tail ORDER BY e.n) AS tails
          INTO batch
          FROM ROWS FROM (json_to_recordset(p_batch) AS (id uuid, occurred_at timestamptz, event_type text,
                 outcome text, actor_agent_id uuid, on_behalf_of uuid, target_type text, target_id text,
                 root_agent_id uuid, ip text, request_id text, details jsonb, head text, middle text, tail text))
               WITH ORDINALITY AS e(id, occurred_at, event_type, outcome, actor_agent_id, on_behalf_of,
                 target_type, target_id, root_agent_id, ip, request_id, details, head, middle, tail, n);
        RETURN QUERY
          SELECT appended.id, appended.seq, appended.prev_hash, appended.hash
            FROM audit_append(batch.ids, batch.occurred_ats, batch.event_types, batch.outcomes,
              batch.actor_agent_ids, batch.on_behalf_ofs, batch.target_types, batch.target_ids,
              batch.root_agent_ids, batch.ips, batch.request_ids, batch.detailss, batch.heads, batch.middles,
              batch.tails) AS appended;
      END
      $$`);
    await q.query(`REVOKE ALL ON FUNCTION audit_append_json(json) FROM PUBLIC`);
    await q.query(`GRANT EXECUTE ON FUNCTION audit_append_json(json) TO agentauth_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION audit_append_json(json)`);
  }
}

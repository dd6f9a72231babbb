import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The signature of `audit_append` (arguments and result), shared by every version of the function: a
 * `CREATE OR REPLACE` with the same signature swaps the body and keeps the grants.
 */
export const AUDIT_APPEND_SIGNATURE = `audit_append(
        p_id uuid[], p_occurred_at timestamptz[], p_event_type text[], p_outcome text[], p_actor_agent_id uuid[],
        p_on_behalf_of uuid[], p_target_type text[], p_target_id text[], p_root_agent_id uuid[], p_ip text[],
        p_request_id text[], p_details jsonb[], p_head text[], p_middle text[], p_tail text[])
      RETURNS TABLE (id uuid, seq bigint, prev_hash text, hash text)
      LANGUAGE plpgsql VOLATILE SECURITY INVOKER`;

/**
 * This first version's body: one single-row INSERT per event (replaced by one multi-row INSERT in
 * migrations/1764401000000-audit-append-single-insert.ts, whose `down` restores this body).
 */
export const AUDIT_APPEND_ROW_BY_ROW_BODY = `$$
      DECLARE
        head_seq bigint;
        head_hash text;
        stored record;
        next_hash text;
      BEGIN
        PERFORM pg_advisory_xact_lock(7022344802737464417);
        SELECT e.seq, e.hash INTO head_seq, head_hash FROM audit_events e ORDER BY e.seq DESC LIMIT 1;
        head_seq := coalesce(head_seq, 0);
        head_hash := coalesce(head_hash, repeat('0', 64));
        FOR i IN 1 .. coalesce(array_length(p_id, 1), 0) LOOP
          SELECT e.seq, e.prev_hash, e.hash INTO stored FROM audit_events e WHERE e.id = p_id[i];
          IF FOUND THEN
            id := p_id[i]; seq := stored.seq; prev_hash := stored.prev_hash; hash := stored.hash;
            RETURN NEXT;
            CONTINUE;
          END IF;
          head_seq := head_seq + 1;
          next_hash := encode(sha256(convert_to(
            p_head[i] || head_hash || p_middle[i] || head_seq::text || p_tail[i], 'UTF8')), 'hex');
          INSERT INTO audit_events (id, seq, occurred_at, event_type, outcome, actor_agent_id, on_behalf_of,
              target_type, target_id, root_agent_id, ip, request_id, details, prev_hash, hash)
            VALUES (p_id[i], head_seq, p_occurred_at[i], p_event_type[i], p_outcome[i], p_actor_agent_id[i],
              p_on_behalf_of[i], p_target_type[i], p_target_id[i], p_root_agent_id[i], p_ip[i], p_request_id[i],
              p_details[i], head_hash, next_hash);
          id := p_id[i]; seq := head_seq; prev_hash := head_hash; hash := next_hash;
          RETURN NEXT;
          head_hash := next_hash;
        END LOOP;
      END
      $$`;

/**
 * `audit_append`: extends the audit chain with a batch in ONE statement (docs/audit.md, "Group commit").
 * Under the chain's advisory lock it reads the head, then for each event completes the canonical text the
 * writer prepared (`head || prev_hash || middle || seq || tail`, libs/audit/src/audit-chain.ts), hashes it
 * (SHA-256, lower-case hex — exactly `eventHash` in Node, which the verifier keeps using) and inserts the
 * row. An id already stored (a retried batch whose first COMMIT was acknowledged too late) is returned as
 * stored and not written again. Replaces six round trips per batch (BEGIN, settings, lock, head, INSERT,
 * COMMIT) with one: the writer's batches no longer wait on the API's event loop between steps.
 *
 * SECURITY INVOKER: the caller needs its own SELECT and INSERT on audit_events (the app role has them).
 */
export class AuditAppend1764400900000 implements MigrationInterface {
  name = 'AuditAppend1764400900000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION ${AUDIT_APPEND_SIGNATURE} AS ${AUDIT_APPEND_ROW_BY_ROW_BODY}`);
    await q.query(`REVOKE ALL ON FUNCTION audit_append FROM PUBLIC`);
    await q.query(`GRANT EXECUTE ON FUNCTION audit_append TO agentauth_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION audit_append`);
  }
}

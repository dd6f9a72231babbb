import type { MigrationInterface, QueryRunner } from 'typeorm';
import { AUDIT_APPEND_ROW_BY_ROW_BODY, AUDIT_APPEND_SIGNATURE } from './1764400900000-audit-append';

/**
 * `audit_append` writes a whole batch with ONE multi-row INSERT (docs/audit.md, "Group commit"), where the
 * first version ran one single-row INSERT per event.
 *
 * Same contract as before: under the chain's transaction-scoped advisory lock it reads the head, finds the
 * batch's ids already stored (one query; a retried batch whose first COMMIT was acknowledged too late) and
 * keeps their stored place, then chains the new events in input order — seq = head + 1, …; hash =
 * lower-case hex SHA-256 of `head || prev_hash || middle || seq || tail` (the canonical text Node prepared,
 * libs/audit/src/audit-chain.ts; byte for byte `eventHash`, which the verifier recomputes). Only the
 * computation happens in the loop (no statement per event); the new rows then go in with one
 * `INSERT … SELECT FROM unnest(…)`, none at all when every event was already stored. An id repeated inside
 * the batch is written once. Returns `(id, seq, prev_hash, hash)` for every input event, in input order.
 *
 * Same signature, so `CREATE OR REPLACE` keeps the owner and the grants; they are restated anyway.
 */
export class AuditAppendSingleInsert1764401000000 implements MigrationInterface {
  name = 'AuditAppendSingleInsert1764401000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION ${AUDIT_APPEND_SIGNATURE} AS $$
      DECLARE
        batch_size int := coalesce(array_length(p_id, 1), 0);
        head_seq bigint;
        head_hash text;
        stored record;
        first_index int;
        fresh_count int := 0;
        out_seq bigint[] := array_fill(NULL::bigint, ARRAY[batch_size]);
        out_prev_hash text[] := array_fill(NULL::text, ARRAY[batch_size]);
        out_hash text[] := array_fill(NULL::text, ARRAY[batch_size]);
        fresh boolean[] := array_fill(false, ARRAY[batch_size]);
      BEGIN
        IF batch_size = 0 THEN
          RETURN;
        END IF;
        PERFORM pg_advisory_xact_lock(7022344802737464417);
        SELECT e.seq, e.hash INTO head_seq, head_hash FROM audit_events e ORDER BY e.seq DESC LIMIT 1;
        head_seq := coalesce(head_seq, 0);
        head_hash := coalesce(head_hash, repeat('0', 64));

        -- Events of a retried batch that are already stored keep their place in the chain.
        FOR stored IN SELECT e.id AS stored_id, e.seq, e.prev_hash, e.hash
                        FROM audit_events e WHERE e.id = ANY (p_id) LOOP
          first_index := array_position(p_id, stored.stored_id);
          out_seq[first_index] := stored.seq;
          out_prev_hash[first_index] := stored.prev_hash;
          out_hash[first_index] := stored.hash;
        END LOOP;

        -- Chain the new events in input order (computation only: no statement per event).
        FOR i IN 1 .. batch_size LOOP
          first_index := array_position(p_id, p_id[i]);
          IF first_index < i THEN
            out_seq[i] := out_seq[first_index];
            out_prev_hash[i] := out_prev_hash[first_index];
            out_hash[i] := out_hash[first_index];
            CONTINUE;
          END IF;
          CONTINUE WHEN out_hash[i] IS NOT NULL;
          head_seq := head_seq + 1;
          out_seq[i] := head_seq;
          out_prev_hash[i] := head_hash;
          out_hash[i] := encode(sha256(convert_to(
            p_head[i] || head_hash || p_middle[i] || head_seq::text || p_tail[i], 'UTF8')), 'hex');
          head_hash := out_hash[i];
          fresh[i] := true;
          fresh_count := fresh_count + 1;
        END LOOP;

        IF fresh_count > 0 THEN
          INSERT INTO audit_events (id, seq, occurred_at, event_type, outcome, actor_agent_id, on_behalf_of,
              target_type, target_id, root_agent_id, ip, request_id, details, prev_hash, hash)
            SELECT b.ev_id, b.ev_seq, b.ev_occurred_at, b.ev_event_type, b.ev_outcome, b.ev_actor_agent_id,
                b.ev_on_behalf_of, b.ev_target_type, b.ev_target_id, b.ev_root_agent_id, b.ev_ip,
                b.ev_request_id, b.ev_details, b.ev_prev_hash, b.ev_hash
              FROM unnest(p_id, out_seq, p_occurred_at, p_event_type, p_outcome, p_actor_agent_id,
                  p_on_behalf_of, p_target_type, p_target_id, p_root_agent_id, p_ip, p_request_id, p_details,
                  out_prev_hash, out_hash, fresh)
                AS b(ev_id, ev_seq, ev_occurred_at, ev_event_type, ev_outcome, ev_actor_agent_id,
                  ev_on_behalf_of, ev_target_type, ev_target_id, ev_root_agent_id, ev_ip, ev_request_id,
                  ev_details, ev_prev_hash, ev_hash, ev_fresh)
              WHERE b.ev_fresh
              ORDER BY b.ev_seq;
        END IF;

        RETURN QUERY
          SELECT r.ev_id, r.ev_seq, r.ev_prev_hash, r.ev_hash
            FROM unnest(p_id, out_seq, out_prev_hash, out_hash) WITH ORDINALITY
              AS r(ev_id, ev_seq, ev_prev_hash, ev_hash, ev_index)
            ORDER BY r.ev_index;
      END
      $$`);
    await q.query(`REVOKE ALL ON FUNCTION audit_append FROM PUBLIC`);
    await q.query(`GRANT EXECUTE ON FUNCTION audit_append TO agentauth_app`);
  }

  /** Restores the first version (one INSERT per event); the grants stay as they were. */
  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE OR REPLACE FUNCTION ${AUDIT_APPEND_SIGNATURE} AS ${AUDIT_APPEND_ROW_BY_ROW_BODY}`);
  }
}

import { randomUUID } from 'node:crypto';
import type { Client } from 'pg';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from '@agentauth/core';
import type { PendingAuditEvent } from '../../../libs/audit/src/audit-chain';
import { prepareAuditEvent } from '../../../libs/audit/src/audit-sanitizer';
import {
  type AuditEventFilters,
  AuditRepository,
  buildListQuery,
} from '../../../libs/audit/src/audit.repository';
import { type PlanNode, planNodes } from '../../support/query-plans';
import { createScratchDatabase, type ScratchDatabase } from '../../support/scratch-database';

/**
 * Every admin filter of GET /audit/events is served by an index: with a few thousand analysed rows, the
 * planner's real plan for the repository's real SQL has no Seq Scan on audit_events and uses the index
 * the migration made for that filter.
 */
describe('audit_events indexes serve the admin filters', () => {
  let scratch: ScratchDatabase;
  let owner: Client;
  let dataSource: DataSource;
  const pick = <T>(list: T[], i: number) => list[i % list.length];
  const actors = Array.from({ length: 200 }, () => randomUUID());
  const roots = Array.from({ length: 50 }, () => randomUUID());
  const targets = Array.from({ length: 500 }, () => randomUUID());
  const start = Date.parse('2026-01-01T00:00:00.000Z');
  const DAY = 24 * 3600 * 1000;

  beforeAll(async () => {
    scratch = await createScratchDatabase('audit_indexes');
    owner = await scratch.owner();
    dataSource = await new DataSource(
      buildDataSourceOptions({ url: scratch.url, appRole: 'agentauth_app', poolSize: 2 }),
    ).initialize();
    const repository = new AuditRepository(dataSource);
    const total = 5000;
    for (let b = 0; b < total / 100; b++) {
      const batch: PendingAuditEvent[] = [];
      for (let i = b * 100; i < (b + 1) * 100; i++) {
        const outcome = i % 33 === 0 ? 'denied' : i % 14 === 0 ? 'failure' : 'success';
        batch.push(
          prepareAuditEvent(
            {
              // Skewed like a real trail: most events are token issuance, the other types are rare.
              eventType: i % 10 < 6 ? 'token.issued' : `probe.t${i % 40}`,
              outcome,
              actorAgentId: pick(actors, i * 7),
              onBehalfOf: i % 10 === 0 ? pick(actors, i * 3 + 1) : null,
              targetType: 'agent',
              targetId: pick(targets, i * 11),
              rootAgentId: pick(roots, i),
              ip: '203.0.113.1',
              requestId: `req-${i}`,
              details: { i },
            },
            randomUUID(),
            new Date(start + Math.floor((i / total) * 50 * DAY)),
          ),
        );
      }
      await repository.appendBatch(batch);
    }
    await repository.onApplicationShutdown();
    await owner.query('ANALYZE audit_events');
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await scratch?.drop();
  });

  async function plan(filters: AuditEventFilters): Promise<PlanNode[]> {
    const { sql, params } = buildListQuery(filters, 51);
    return planNodes(owner, sql, params);
  }

  it.each<[string, () => AuditEventFilters, string[]]>([
    ['no filter (newest first)', () => ({}), ['audit_events_seq_key']],
    ['event_type (a rare type)', () => ({ eventType: 'probe.t9' }), ['audit_events_event_type_seq_idx']],
    [
      'event_type (a rare type) + cursor',
      () => ({ eventType: 'probe.t9', beforeSeq: 2500 }),
      ['audit_events_event_type_seq_idx'],
    ],
    // 60% of the rows match: walking seq backwards finds a page at once, which the planner rightly prefers.
    ['event_type (the common type)', () => ({ eventType: 'token.issued' }), ['audit_events_seq_key']],
    ['root_agent_id', () => ({ rootAgentId: roots[7] }), ['audit_events_root_seq_idx']],
    [
      'agent_id (actor, on_behalf_of or target)',
      () => ({ agentId: actors[5] }),
      ['audit_events_actor_seq_idx', 'audit_events_on_behalf_of_seq_idx', 'audit_events_target_seq_idx'],
    ],
    ['outcome', () => ({ outcome: 'denied' }), ['audit_events_outcome_seq_idx']],
    [
      'since + until (one day)',
      () => ({ since: new Date(start + 10 * DAY), until: new Date(start + 11 * DAY) }),
      ['audit_events_occurred_at_idx'],
    ],
    ['request_id', () => ({ requestId: 'req-1234' }), ['audit_events_request_id_idx']],
  ])('%s', async (_label, filters, expectedIndexes) => {
    const nodes = await plan(filters());
    const onTable = nodes.filter((n) => n['Relation Name'] === 'audit_events' || n['Index Name']);
    expect(nodes.filter((n) => n['Node Type'] === 'Seq Scan')).toEqual([]);
    expect(onTable.map((n) => n['Node Type'])).toEqual(
      expect.arrayContaining([expect.stringMatching(/^(Index Scan|Index Only Scan|Bitmap Index Scan)$/)]),
    );
    const used = nodes.map((n) => n['Index Name']).filter(Boolean);
    expect(used).toEqual(expect.arrayContaining(expectedIndexes));
  });

  it('answers the filters correctly on these rows (the plans are not of empty results)', async () => {
    const repository = new AuditRepository(dataSource);
    const denied = await repository.list({ outcome: 'denied' }, 500);
    expect(denied.length).toBe(Math.ceil(5000 / 33));
    const byAgent = await repository.list({ agentId: actors[5] }, 5000);
    expect(byAgent.length).toBeGreaterThan(0);
    for (const e of byAgent) expect([e.actorAgentId, e.onBehalfOf, e.targetId]).toContain(actors[5]);
  });
});

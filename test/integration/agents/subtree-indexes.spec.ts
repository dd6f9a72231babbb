import { randomUUID } from 'node:crypto';
import type { Client } from 'pg';
import { DataSource, type EntityManager, type Logger as TypeOrmLogger } from 'typeorm';
import { buildDataSourceOptions } from '@agentauth/core';
import { Agent } from '../../../libs/agents/src/agent.entity';
import { AgentsRepository } from '../../../libs/agents/src/agents.repository';
import { treeScopeOf } from '../../../libs/agents/src/tree-visibility';
import { type PlanNode, planNodes } from '../../support/query-plans';
import { createScratchDatabase, type ScratchDatabase } from '../../support/scratch-database';

interface Statement {
  sql: string;
  params: unknown[];
}

/** TypeORM logger that records every statement the repository sends (transaction control left out). */
class StatementRecorder implements TypeOrmLogger {
  statements: Statement[] = [];
  logQuery(sql: string, params?: unknown[]): void {
    if (!/^(START TRANSACTION|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)/i.test(sql.trim())) {
      this.statements.push({ sql, params: params ?? [] });
    }
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}

const WIDE = 2000;
const DEEP = 50;
const BACKGROUND_TREES = 400;
const BACKGROUND_CHILDREN = 100;

/**
 * "Subtree queries stay fast for deep and wide trees (materialized path, indexed — no recursive application
 * loops)": on a table of ~42 000 analysed agents holding a wide tree (one root, 2 000 children) and a deep
 * chain (50 levels), every subtree/ancestry method of AgentsRepository is run for real (writes in a rolled
 * back transaction) with its statements recorded; each method sends ONE statement, with no recursive CTE,
 * and PostgreSQL's plan for it (sequential scans allowed) reads agents through an index, never a Seq Scan.
 */
describe('AgentsRepository subtree queries on deep and wide trees', () => {
  let scratch: ScratchDatabase;
  let owner: Client;
  let dataSource: DataSource;
  let repository: AgentsRepository;
  const recorder = new StatementRecorder();
  const wideRoot = randomUUID();
  const chain = Array.from({ length: DEEP + 1 }, () => randomUUID()); // chain[0] is the root
  const pathOf = (ids: string[]) => `${ids.join('/')}/`;

  beforeAll(async () => {
    scratch = await createScratchDatabase('agent_subtrees');
    owner = await scratch.owner();
    // Background: many ordinary trees, so the trees under test are a small part of the table.
    await owner.query(
      `INSERT INTO agents (id, name, root_agent_id, trust_level, depth, path, created_at)
       SELECT id, 'background root', id, 'root', 0, id::text || '/', now() - random() * interval '90 days'
       FROM (SELECT gen_random_uuid() AS id FROM generate_series(1, $1)) r`,
      [BACKGROUND_TREES],
    );
    await owner.query(
      `INSERT INTO agents (id, name, parent_agent_id, root_agent_id, trust_level, depth, path, created_at)
       SELECT id, 'background child', root_id, root_id, 'delegated', 1, root_path || id::text || '/',
              now() - random() * interval '90 days'
       FROM (SELECT gen_random_uuid() AS id, r.id AS root_id, r.path AS root_path
             FROM agents r, generate_series(1, $1) WHERE r.depth = 0) c`,
      [BACKGROUND_CHILDREN],
    );
    // The wide tree: one root, WIDE children, in one INSERT … SELECT generate_series.
    await owner.query(
      `INSERT INTO agents (id, name, root_agent_id, trust_level, depth, path) VALUES ($1::uuid, 'wide', $1::uuid, 'root', 0, $1::text || '/')`,
      [wideRoot],
    );
    await owner.query(
      `INSERT INTO agents (id, name, parent_agent_id, root_agent_id, trust_level, depth, path, allowed_scopes, created_at)
       SELECT id, 'sibling ' || n, $1::uuid, $1::uuid, 'delegated', 1, $1::text || '/' || id::text || '/', '{agents:read}',
              now() - n * interval '1 second'
       FROM (SELECT gen_random_uuid() AS id, n FROM generate_series(1, $2) n) s`,
      [wideRoot, WIDE],
    );
    // The deep chain: root → 50 levels, one statement.
    await owner.query(
      `INSERT INTO agents (id, name, parent_agent_id, root_agent_id, trust_level, depth, path)
       SELECT id, 'level ' || depth, parent, $1::uuid, CASE WHEN depth = 0 THEN 'root' ELSE 'delegated' END, depth, path
       FROM unnest($2::uuid[], $3::uuid[], $4::int[], $5::text[]) AS t(id, parent, depth, path)`,
      [
        chain[0],
        chain,
        chain.map((_, i) => (i === 0 ? null : chain[i - 1])),
        chain.map((_, i) => i),
        chain.map((_, i) => pathOf(chain.slice(0, i + 1))),
      ],
    );
    await owner.query('ANALYZE agents');
    dataSource = await new DataSource(
      buildDataSourceOptions({
        url: scratch.url,
        appRole: 'agentauth_app',
        poolSize: 2,
        entities: [Agent],
        logger: recorder,
      }),
    ).initialize();
    repository = new AgentsRepository(dataSource);
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await scratch?.drop();
  });

  /** Runs `call` (inside a transaction that is rolled back) and returns its result and its statements. */
  async function recorded<T>(
    call: (manager: EntityManager) => Promise<T>,
  ): Promise<{ result: T; statements: Statement[] }> {
    const runner = dataSource.createQueryRunner();
    await runner.startTransaction();
    try {
      recorder.statements = [];
      const result = await call(runner.manager);
      return { result, statements: recorder.statements };
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
  }

  async function planOf({ sql, params }: Statement): Promise<PlanNode[]> {
    return planNodes(owner, sql, params);
  }

  const wideChild = async () =>
    (
      await owner.query<{ id: string }>(
        `SELECT id FROM agents WHERE parent_agent_id = $1 LIMIT 1 OFFSET 700`,
        [wideRoot],
      )
    ).rows[0].id;
  const later = new Date(Date.now() + 3600_000);

  it.each<[string, (m: EntityManager) => Promise<unknown>, (result: unknown) => void, string]>([
    [
      'listSubtree (wide root, first page)',
      () => repository.listSubtree(treeScopeOf(wideRoot), {}, undefined, 50),
      (r) => expect(r).toHaveLength(51),
      'agents_path_idx',
    ],
    [
      'listSubtree (wide root, filtered, after a cursor)',
      () =>
        repository.listSubtree(
          treeScopeOf(wideRoot),
          { status: 'active', trustLevel: 'delegated', parentAgentId: wideRoot },
          { createdAt: new Date(Date.now() - 600_000), id: wideRoot },
          50,
        ),
      (r) => expect(r).toHaveLength(51),
      'agents_path_idx',
    ],
    [
      'listSubtree (deep chain, from the middle)',
      () => repository.listSubtree(treeScopeOf(chain[25]), {}, undefined, 50),
      (r) => expect(r).toHaveLength(26),
      'agents_path_idx',
    ],
    [
      'findInSubtree (wide root, one of its children)',
      async () => repository.findInSubtree(treeScopeOf(wideRoot), await wideChild()),
      (r) => expect(r).toMatchObject({ parentAgentId: wideRoot }),
      'agents_pkey',
    ],
    [
      'isInSubtree (the bottom of the deep chain under its top)',
      () => repository.isInSubtree(treeScopeOf(chain[0]), chain[DEEP]),
      (r) => expect(r).toBe(true),
      'agents_pkey',
    ],
    [
      'chainUnscoped (ancestry of the bottom of the deep chain)',
      () => repository.chainUnscoped(chain[DEEP]),
      (r) => expect((r as Agent[]).map((a) => a.id)).toEqual(chain),
      'agents_pkey',
    ],
    [
      'chainUnscoped (the same, FOR SHARE in a transaction)',
      (m) => repository.chainUnscoped(chain[DEEP], { manager: m, lock: 'share' }),
      (r) => expect((r as Agent[]).map((a) => a.id)).toEqual(chain),
      'agents_pkey',
    ],
    [
      'descendantsForUpdate (wide root)',
      (m) => repository.descendantsForUpdate(m, `${wideRoot}/`),
      (r) => expect(r).toHaveLength(WIDE),
      'agents_path_idx',
    ],
    [
      'activeSubtreeIds (deep chain)',
      (m) => repository.activeSubtreeIds(m, pathOf(chain.slice(0, 1))),
      (r) => expect(r).toEqual(chain),
      'agents_path_idx',
    ],
    [
      'setScopesInSubtree (every child of the wide root)',
      async (m) => {
        const children = await repository.descendantsForUpdate(m, `${wideRoot}/`);
        recorder.statements = [];
        return repository.setScopesInSubtree(
          m,
          `${wideRoot}/`,
          children.map((c) => ({ agentId: c.id, allowedScopes: [] })),
          new Date(),
        );
      },
      () => undefined,
      'agents_pkey',
    ],
    [
      'clampDescendantExpiry (wide root)',
      (m) => repository.clampDescendantExpiry(m, `${wideRoot}/`, later, new Date()),
      () => undefined,
      'agents_path_idx',
    ],
    [
      'deactivateSubtree (wide root)',
      (m) => repository.deactivateSubtree(m, `${wideRoot}/`, new Date()),
      (r) => expect(r).toHaveLength(WIDE + 1),
      'agents_path_idx',
    ],
    [
      'deactivateSubtree (deep chain, from the middle)',
      (m) => repository.deactivateSubtree(m, pathOf(chain.slice(0, 26)), new Date()),
      (r) => expect(r).toEqual(chain.slice(25)),
      'agents_path_idx',
    ],
  ])('%s: one statement, no recursion, an index scan', async (_label, call, check, expectedIndex) => {
    const { result, statements } = await recorded(call);
    check(result); // the plans below are of queries that found the trees, not of empty results
    expect(statements).toHaveLength(1);
    const [statement] = statements;
    expect(statement.sql).not.toMatch(/\bRECURSIVE\b/i);
    const plan = await planOf(statement);
    expect(plan.map((n) => n['Node Type'])).not.toEqual(
      expect.arrayContaining([expect.stringMatching(/^(Seq Scan|Recursive Union|WorkTable Scan|CTE Scan)$/)]),
    );
    const onAgents = plan.filter((n) => n['Relation Name'] === 'agents' || n['Index Name']);
    expect(onAgents.length).toBeGreaterThan(0);
    for (const n of onAgents) {
      expect(n['Node Type']).toMatch(
        /^(Index Scan|Index Only Scan|Bitmap Index Scan|Bitmap Heap Scan|ModifyTable)$/,
      );
    }
    expect(plan.map((n) => n['Index Name']).filter(Boolean)).toContain(expectedIndex);
  });
  it('findInSubtree (its SQL built once, the row mapped without the query builder) returns exactly what the query builder does', async () => {
    const viaQueryBuilder = (subject: string, id: string) =>
      dataSource
        .getRepository(Agent)
        .createQueryBuilder('a')
        .innerJoin(
          'agents',
          'tv_subject',
          `tv_subject.id = :subject AND (a.path >= tv_subject.path AND a.path < (tv_subject.path || '~'))`,
          { subject },
        )
        .where('a.id = :id', { id })
        .getOne();
    const child = await wideChild();
    await owner.query(
      `UPDATE agents SET capabilities = '{search,browse}', metadata = '{"team":"x","n":1}', expires_at = now() + interval '1 day' WHERE id = $1`,
      [child],
    );
    for (const [subject, id] of [
      [wideRoot, child],
      [wideRoot, wideRoot],
      [chain[10], chain[DEEP]],
    ]) {
      const found = await repository.findInSubtree(treeScopeOf(subject), id);
      expect(found).toBeInstanceOf(Agent);
      expect(found).toEqual(await viaQueryBuilder(subject, id));
      expect(found?.id).toBe(id);
    }
    const expected = await viaQueryBuilder(wideRoot, child);
    expect(expected?.expiresAt).toBeInstanceOf(Date);
    expect(await repository.findInSubtree(treeScopeOf(wideRoot), child)).toEqual(expected);
    // Outside the subject's subtree (an ancestor, another tree) and unknown: null, like the query builder.
    expect(await repository.findInSubtree(treeScopeOf(chain[DEEP]), chain[10])).toBeNull();
    expect(await repository.findInSubtree(treeScopeOf(wideRoot), chain[DEEP])).toBeNull();
    expect(await repository.findInSubtree(treeScopeOf(wideRoot), randomUUID())).toBeNull();
  });
});

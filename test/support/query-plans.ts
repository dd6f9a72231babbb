import type { Client } from 'pg';

/** One node of PostgreSQL's `EXPLAIN (FORMAT JSON)` plan (the fields the index tests read). */
export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function flatten(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(flatten)];
}

/** Every node of the plan PostgreSQL chooses for `sql` (not executed), top-down. */
export async function planNodes(client: Client, sql: string, params: unknown[] = []): Promise<PlanNode[]> {
  const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
    `EXPLAIN (FORMAT JSON) ${sql}`,
    params,
  );
  return flatten(rows[0]['QUERY PLAN'][0].Plan);
}

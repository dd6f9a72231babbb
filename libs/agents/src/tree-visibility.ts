import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';

/**
 * THE tree-visibility rule (CONTRACT §5): a caller sees and manages its own agent (the token's `sub`) and
 * its descendants only; everything else answers exactly like an unknown id (404).
 *
 * In SQL, "agent `a` is in the subtree of agent `s`" is a prefix test on the materialized path, written as
 * a range so it is an index range scan on `agents_path_idx` even when `s.path` is only known at run time:
 * paths consist of [0-9a-f-/] only, so every string that starts with P sorts in [P, P || '~').
 *
 * Every query for tenant data takes a `TreeScope` and joins through `restrictToSubtree`, and
 * `AgentsService.findVisible` is the one check for an id in a path or a body. Every SQL text of the subtree
 * and ancestry tests is written here, once.
 */

declare const TREE_SCOPE: unique symbol;

/**
 * An agent's visibility: the subtree of `agentId`, itself included. Only `treeScopeOf` makes one (the brand
 * cannot be written elsewhere), so a repository finder that takes a `TreeScope` cannot be called with a
 * bare id, or without a scope at all. A finder that must be unscoped (authentication lookups, cascades,
 * maintenance, a write re-reading a row whose visibility was already checked) says so in its name.
 */
export interface TreeScope {
  readonly agentId: string;
  readonly [TREE_SCOPE]: true;
}

/** The visibility of `agentId` (for a caller: its `subjectAgentId`, the token's `sub`). */
export function treeScopeOf(agentId: string): TreeScope {
  return { agentId } as TreeScope;
}

/** SQL condition: `agentAlias.path` lies in the subtree whose top agent is `subtreeAlias` (itself included). */
export function pathInSubtree(agentAlias: string, subtreeAlias: string): string {
  return `(${agentAlias}.path >= ${subtreeAlias}.path AND ${agentAlias}.path < (${subtreeAlias}.path || '~'))`;
}

/**
 * SQL condition: the `column` path lies in the subtree at the path `pathSql` (a parameter such as `$1`),
 * the top itself included, or only strictly below it with `strict`.
 */
export function pathUnder(column: string, pathSql: string, options: { strict?: boolean } = {}): string {
  return `(${column} ${options.strict ? '>' : '>='} ${pathSql} AND ${column} < (${pathSql} || '~'))`;
}

/** SQL: the ids on the materialized path of `alias` (root first, itself last), as `uuid[]`. */
export function idsOnPath(alias: string): string {
  return `string_to_array(rtrim(${alias}.path, '/'), '/')::uuid[]`;
}

/**
 * Restricts `agentAlias` (an `agents` row already in the query) to `scope` (the subject's subtree, itself
 * included) by joining the subject's row. An unknown subject gives no rows.
 */
export function restrictToSubtree<T extends ObjectLiteral>(
  qb: SelectQueryBuilder<T>,
  agentAlias: string,
  scope: TreeScope,
  subjectAlias = 'tv_subject',
): SelectQueryBuilder<T> {
  return qb.innerJoin(
    'agents',
    subjectAlias,
    `${subjectAlias}.id = :${subjectAlias}_id AND ${pathInSubtree(agentAlias, subjectAlias)}`,
    { [`${subjectAlias}_id`]: scope.agentId },
  );
}

/**
 * The same rule outside SQL, for what already carries its root (a token's `agent.root_agent_id`, a refresh
 * family's `root_agent_id`): a tree's tokens are visible to agents of that tree only. This is the coarse
 * boundary (another tree's token is unknown: inactive, ignored, `invalid_grant`); a finer subtree check
 * (`AgentsService.isInSubtree`) follows where the rule asks for one.
 */
export function inCallersTree(rootAgentId: string, caller: { rootAgentId: string }): boolean {
  return rootAgentId === caller.rootAgentId;
}

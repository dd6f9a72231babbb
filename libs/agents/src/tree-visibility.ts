import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';

/**
 * THE tree-visibility rule (CONTRACT §5): a caller sees and manages its own agent (the token's `sub`) and
 * its descendants only; everything else answers exactly like an unknown id (404).
 *
 * In SQL, "agent `a` is in the subtree of agent `s`" is a prefix test on the materialized path, written as
 * a range so it is an index range scan on `agents_path_idx` even when `s.path` is only known at run time:
 * paths consist of [0-9a-f-/] only, so every string that starts with P sorts in [P, P || '~').
 *
 * Every query for tenant data joins through `subtreeJoin`, and `AgentsService.findVisible` is the one
 * check for an id in a path or a body.
 */

/** SQL condition: `agentAlias.path` lies in the subtree whose top agent is `subtreeAlias` (itself included). */
export function pathInSubtree(agentAlias: string, subtreeAlias: string): string {
  return `(${agentAlias}.path >= ${subtreeAlias}.path AND ${agentAlias}.path < (${subtreeAlias}.path || '~'))`;
}

/**
 * Restricts `agentAlias` (an `agents` row already in the query) to the subtree of `subjectAgentId` (itself
 * included) by joining the subject's row. An unknown subject gives no rows.
 */
export function restrictToSubtree<T extends ObjectLiteral>(
  qb: SelectQueryBuilder<T>,
  agentAlias: string,
  subjectAgentId: string,
  subjectAlias = 'tv_subject',
): SelectQueryBuilder<T> {
  return qb.innerJoin(
    'agents',
    subjectAlias,
    `${subjectAlias}.id = :${subjectAlias}_id AND ${pathInSubtree(agentAlias, subjectAlias)}`,
    { [`${subjectAlias}_id`]: subjectAgentId },
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

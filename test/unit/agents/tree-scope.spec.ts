import { randomUUID } from 'node:crypto';
import { type TreeScope, treeScopeOf } from '@agentauth/agents';
import type { AgentsRepository } from '../../../libs/agents/src/agents.repository';
import type { CredentialsRepository } from '../../../libs/credentials/src/credentials.repository';
import type { DelegationsRepository } from '../../../libs/delegations/src/delegations.repository';
import type { PoliciesRepository } from '../../../libs/policies/src/policies.repository';
import type { ResourceServersRepository } from '../../../libs/resource-servers/src/resource-servers.repository';
import type { WebhooksRepository } from '../../../libs/webhooks/src/webhooks.repository';

/**
 * Tree scoping is enforced by types (ARCHITECTURE rule 2): every tenant finder takes a `TreeScope`, which
 * only `treeScopeOf` (tree-visibility.ts) can make. The `@ts-expect-error` lines below are checked by
 * `make typecheck` (tsc over test/**): if a finder ever accepted a bare id, or no scope, the directive
 * would be unused and the type check would fail. The function is never called (no database here).
 */
function scopedFindersRefuseABareId(
  agents: AgentsRepository,
  credentials: CredentialsRepository,
  delegations: DelegationsRepository,
  policies: PoliciesRepository,
  servers: ResourceServersRepository,
  webhooks: WebhooksRepository,
): void {
  const id = randomUUID();
  const page = { limit: 10, after: undefined };
  // @ts-expect-error a TreeScope cannot be forged from an object literal (the brand is tree-visibility's)
  const forged: TreeScope = { agentId: id };
  void forged;
  // @ts-expect-error a bare agent id is not a scope
  void agents.findInSubtree(id, id);
  // @ts-expect-error a bare agent id is not a scope
  void agents.isInSubtree(id, id);
  // @ts-expect-error the scope cannot be left out
  void agents.listSubtree({}, undefined, 10);
  // @ts-expect-error a bare agent id is not a scope
  void credentials.findVisible(id, id);
  // @ts-expect-error a bare agent id is not a scope
  void credentials.listVisible(id, {}, undefined, 10);
  // @ts-expect-error a bare agent id is not a scope
  void delegations.findVisible(id, id);
  // @ts-expect-error a bare agent id is not a scope
  void delegations.listVisible(id, {}, undefined, 10);
  // @ts-expect-error a bare agent id is not a scope
  void policies.findVisible(id, id, id);
  // @ts-expect-error a bare agent id is not a scope
  void policies.listVisible(id, id, {}, undefined, 10);
  // @ts-expect-error a bare agent id is not a scope
  void servers.findVisible(id, id, id);
  // @ts-expect-error a bare agent id is not a scope
  void servers.listVisible(id, id, undefined, 10);
  // @ts-expect-error a bare agent id is not a scope
  void webhooks.findVisible(id, id, id);
  // @ts-expect-error a bare agent id is not a scope
  void webhooks.listVisible(id, id, page);
  // @ts-expect-error a bare agent id is not a scope
  void webhooks.softDelete(id, id, id, new Date());

  // With a scope, each compiles.
  const scope = treeScopeOf(id);
  void agents.findInSubtree(scope, id);
  void agents.listSubtree(scope, {}, undefined, 10);
  void credentials.findVisible(scope, id);
  void delegations.listVisible(scope, {}, undefined, 10);
  void policies.findVisible(scope, id, id);
  void servers.listVisible(scope, id, undefined, 10);
  void webhooks.listVisible(scope, id, page);
}

/** The finders that must be unscoped say so in their name; the scoped names of old are gone. */
type Has<T, K extends string> = K extends keyof T ? true : false;
const unscopedNames: [
  Has<AgentsRepository, 'chainUnscoped'>,
  Has<AgentsRepository, 'lockForUpdateUnscoped'>,
  Has<AgentsRepository, 'chain'>,
  Has<AgentsRepository, 'lockForUpdate'>,
  Has<CredentialsRepository, 'lockForUpdateUnscoped'>,
  Has<CredentialsRepository, 'findByPrefixForAuthentication'>,
  Has<CredentialsRepository, 'findById'>,
  Has<CredentialsRepository, 'lockForUpdate'>,
  Has<DelegationsRepository, 'chainUnscoped'>,
  Has<DelegationsRepository, 'chain'>,
  Has<DelegationsRepository, 'lockForUpdate'>,
] = [true, true, false, false, true, true, false, false, true, false, false];

describe('TreeScope (libs/agents/src/tree-visibility.ts)', () => {
  it('carries the agent whose subtree it opens, and is made by treeScopeOf only', () => {
    const id = randomUUID();
    expect(treeScopeOf(id)).toEqual({ agentId: id });
    expect(typeof scopedFindersRefuseABareId).toBe('function');
    expect(unscopedNames).toHaveLength(11);
  });
});

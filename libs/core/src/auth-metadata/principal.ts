import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { ForbiddenProblem, UnauthorizedProblem } from '../errors/problems';

/** RFC 8693 `act` claim: the current actor, with the previous actors nested inside. */
export interface ActClaim {
  sub: string;
  client_id?: string;
  act?: ActClaim;
}

/**
 * Who is calling, as established by the authentication guard (CONTRACT §4 "authority of a token"):
 * the token acts for `subjectAgentId`, within `scopes`, never beyond that agent's subtree; `actorAgentId`
 * (the token's `client_id`) is who is actually calling.
 */
export interface Principal {
  /** `client_id`: the agent making the call. */
  actorAgentId: string;
  /** `sub`: the agent on whose authority the call is made (the same as the actor unless `act` is present). */
  subjectAgentId: string;
  /** Root of the subject's tree: the tenant boundary. */
  rootAgentId: string;
  /** The calling token's scopes: nothing written may exceed them. */
  scopes: readonly string[];
  /** `act` claim when the token is delegated or exchanged. */
  act?: ActClaim;
  delegationId?: string;
  tokenId?: string;
  credentialId?: string;
}

export interface RequestWithPrincipal {
  principal?: Principal;
}

/** The authenticated principal of the request (routes behind `@Auth`). */
export const CurrentPrincipal = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal => {
  const principal = ctx.switchToHttp().getRequest<RequestWithPrincipal>().principal;
  if (!principal) throw new UnauthorizedProblem();
  return principal;
});

/** True when the token carries `act` (delegated or exchanged): such tokens have narrower write rights (§5). */
export function actsOnBehalf(principal: Principal): boolean {
  return principal.act !== undefined;
}

/**
 * Refuses (403 `act_not_allowed`) a token carrying `act` for writes only direct authority may make
 * (CONTRACT §5, §7, §8: credentials, webhooks, policies): a delegate never changes the limits and
 * subscriptions of its delegator's tree with borrowed authority. `what` ends the sentence "A delegated or
 * exchanged token cannot …".
 */
export function assertDirectAuthority(principal: Principal, what: string): void {
  if (actsOnBehalf(principal)) {
    throw new ForbiddenProblem(`A delegated or exchanged token cannot ${what}`, 'act_not_allowed');
  }
}

/**
 * Every agent acting in the request (CONTRACT §2): the token's `sub`, its `client_id` and each member of
 * its `act` chain (`sub`, and `client_id` where a member names one), de-duplicated. A rule that asks "may
 * the caller govern X" asks it of each of them: a delegate never exercises borrowed authority over itself.
 */
export function actingAgentIds(principal: Principal): string[] {
  return actingAgentsOf(principal.subjectAgentId, principal.actorAgentId, principal.act);
}

/**
 * THE list of agents a token (or a refresh family) acts through: `sub`, `client_id`, then each `act`
 * member's `sub` and `client_id`, outermost first, de-duplicated. Parsed tokens bound the `act` depth.
 */
export function actingAgentsOf(
  subjectId: string,
  clientId: string,
  act: ActClaim | null | undefined,
): string[] {
  const ids = [subjectId, clientId];
  for (let a = act ?? undefined; a !== undefined; a = a.act) {
    ids.push(a.sub);
    if (a.client_id) ids.push(a.client_id);
  }
  return [...new Set(ids)];
}

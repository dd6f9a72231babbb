import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, managementResourceIdentifier } from '@agentauth/core';
import { ResourceServersService, type ResourceServerTarget } from '@agentauth/resource-servers';
import { namedAudience } from '../vocabulary/audience';
import { InvalidGrantError, InvalidTargetError } from '../vocabulary/oauth-errors';
import type { RefreshFamily } from '../refresh/refresh-tokens.repository';

/**
 * Whom a token is for (CONTRACT §8): the management API, or one registered resource server of the client's
 * root tree. `audience` is the token's `aud` and the policies' resource at issuance.
 */
export type TokenTarget =
  | { kind: 'management'; audience: string }
  | { kind: 'resource_server'; audience: string; server: ResourceServerTarget };

/** The one answer for an identifier that is not a resource server of the caller's tree (no oracle). */
const UNKNOWN_TARGET = 'The resource is not a resource server known to this authorization server';

/**
 * THE resolution of RFC 8707 `resource` (or RFC 8693 `audience`) for every grant:
 * - none, the management identifier (`<PUBLIC_BASE_URL><API_V1_PREFIX>`) or the bare `<PUBLIC_BASE_URL>`
 *   → the management API;
 * - the exact identifier of a resource server of the client's root tree → that server;
 * - anything else (another tree's server, an unknown URI, several values) → `invalid_target`.
 */
@Injectable()
export class TokenTargets {
  private readonly managementAudience: string;
  private readonly managementAliases: ReadonlySet<string>;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly resourceServers: ResourceServersService,
  ) {
    this.managementAudience = managementResourceIdentifier(config);
    this.managementAliases = new Set([
      this.managementAudience,
      config.publicBaseUrl,
      `${config.publicBaseUrl}/`,
    ]);
  }

  management(): TokenTarget {
    return { kind: 'management', audience: this.managementAudience };
  }

  /** The target the request names for a client of `rootAgentId`, or `undefined` when it names none. */
  async named(params: Record<string, string>, rootAgentId: string): Promise<TokenTarget | undefined> {
    const named = namedAudience(params);
    if (named === undefined) return undefined;
    if (this.managementAliases.has(named)) return this.management();
    const server = await this.resourceServers.findForIssuance(rootAgentId, named);
    if (!server) throw new InvalidTargetError(UNKNOWN_TARGET);
    return { kind: 'resource_server', audience: server.identifier, server };
  }

  /** The target of a new grant: the one the request names, else the management API. */
  async resolve(params: Record<string, string>, rootAgentId: string): Promise<TokenTarget> {
    return (await this.named(params, rootAgentId)) ?? this.management();
  }

  /**
   * The target of a refresh: the family's. A request may repeat it (any spelling that resolves to it) but
   * not change it (`invalid_target`). A family whose resource server was deleted meanwhile — its families
   * are revoked with it, this is the race's last line — or whose audience is neither a server nor today's
   * management identifier (a family from before resource servers) cannot be refreshed: `invalid_grant`.
   */
  async ofFamily(family: RefreshFamily, params: Record<string, string>): Promise<TokenTarget> {
    let target: TokenTarget;
    if (family.resourceServerId !== null) {
      const server = await this.resourceServers.findByIdForIssuance(
        family.rootAgentId,
        family.resourceServerId,
      );
      if (!server || server.identifier !== family.audience) {
        throw new InvalidGrantError(
          'The refresh token is invalid, expired or revoked',
          'resource_server_gone',
        );
      }
      target = { kind: 'resource_server', audience: server.identifier, server };
    } else if (family.audience === this.managementAudience) {
      target = this.management();
    } else {
      throw new InvalidGrantError('The refresh token is invalid, expired or revoked', 'audience_retired');
    }
    const named = await this.named(params, family.rootAgentId);
    if (named !== undefined && named.audience !== target.audience) {
      throw new InvalidTargetError('A refresh keeps the resource of the original grant');
    }
    return target;
  }
}

/** The extra scope ceiling of a target: a resource server's scopes (the management API adds none). */
export function targetCeilings(target: TokenTarget): string[][] {
  return target.kind === 'resource_server' ? [target.server.scopes] : [];
}

/** The issuer and refresh-family fields of a target. */
export function targetTokenFields(target: TokenTarget): {
  audience: string;
  resourceServerId?: string;
  lifetimeSeconds?: number | null;
} {
  return target.kind === 'resource_server'
    ? {
        audience: target.audience,
        resourceServerId: target.server.id,
        lifetimeSeconds: target.server.accessTokenTtlSeconds,
      }
    : { audience: target.audience };
}

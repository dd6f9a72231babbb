import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnModuleInit, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { PinoLogger } from 'nestjs-pino';
import { DataSource, type EntityManager } from 'typeorm';
import {
  type AgentActivity,
  AgentCascadeRegistry,
  AgentsService,
  cascadeAuditEvents,
  type CascadeRevocation,
  treeScopeOf,
} from '@agentauth/agents';
import { type AuditOrigin, AuditService, requestAuditFields, StatsRegistry } from '@agentauth/audit';
import {
  type ActClaim,
  actsOnBehalf,
  APP_CONFIG,
  type AppConfig,
  BadRequestProblem,
  Clock,
  ConflictProblem,
  ForbiddenProblem,
  NotFoundProblem,
  type Principal,
  ValidationProblem,
  decodeCursor,
  DEFAULT_PAGE_SIZE,
  type Page,
  parseTimestamp,
  toPage,
  isUuid,
} from '@agentauth/core';
import { DELEGATION_TOKEN_TYP, InvalidTokenError, TokenSigner, TokenVerifier } from '@agentauth/keys';
import { type RevocationMarker, RevocationService } from '@agentauth/revocation';
import { ScopeRegistry } from '@agentauth/scope-registry';
import { formatScopeParam } from '@agentauth/scopes';
import { Delegation, type DelegationKind, delegationIdsInPath } from './delegation.entity';
import {
  buildActClaim,
  type ChainAgentState,
  chainAgentIds,
  type ChainVerdict,
  judgeChain,
  resolveNewHop,
} from './delegation-rules';
import { DelegationRevocationRegistry } from './delegation-revocation.registry';
import { InvalidDelegationError } from './delegations.errors';
import { DelegationsRepository, type RevokedDelegationRow } from './delegations.repository';
import type { CreateDelegationDto } from './dto/create-delegation.dto';
import { type DelegationResponse, delegationView } from './dto/delegation.response';
import type { ListDelegationsQuery } from './dto/list-delegations.query';

/** `aud` of every delegation token: the token endpoint, the only place it may be presented (RFC 7523 §3). */
export function delegationTokenAudience(config: Pick<AppConfig, 'publicBaseUrl' | 'apiPrefix'>): string {
  return `${config.publicBaseUrl}${config.apiPrefix}/auth/token`;
}

/** The claims of a delegation token besides the registered ones (`iss iat nbf exp jti` come from the signer). */
export interface DelegationTokenClaims {
  /** The delegate: the only client that may present it. */
  sub: string;
  /** `delegationTokenAudience(config)`. */
  aud: string;
  /** = the row's `token_jti`. */
  jti: string;
  delegation_id: string;
  /** Who granted this hop. */
  delegator_agent_id: string;
  /** The chain's first delegator: the `sub` of access tokens minted from it. */
  original_delegator_id: string;
  /** This hop's scopes, space-separated (the effective scopes may be narrower: see the chain). */
  scope: string;
  /** 1 for a first hop. */
  depth: number;
}

/**
 * What a delegation is for (CONTRACT §11). Default: an ordinary delegation of `POST /delegations`. A consent
 * at `/auth/authorize` is created with `kind: 'authorization_code'`, its `resource` and no re-delegation.
 */
export interface DelegationOptions {
  kind?: DelegationKind;
  resource?: string | null;
}

/** A new delegation and its token (shown once). */
export interface CreatedDelegation {
  delegation: Delegation;
  delegationToken: string;
}

/** A chain and the verdict on it right now. */
export interface ChainStatus {
  /** First hop first; the delegation asked about last. */
  chain: Delegation[];
  verdict: ChainVerdict;
}

/**
 * What the `agent_delegation` grant needs from a valid delegation token (docs/delegations.md, "The grant").
 */
export interface ResolvedDelegationGrant {
  /** The presented delegation (the last hop). */
  delegation: Delegation;
  /** Every hop, first hop first. */
  chain: Delegation[];
  /** `chain.map(d => d.id)`. */
  delegationIds: string[];
  /** The original delegator's current allowed_scopes ∩ every hop's scopes: the ceiling of the token's scope. */
  effectiveScopes: string[];
  /** The access token's `sub`. */
  originalDelegatorId: string;
  /** The delegate = the authenticated client = the access token's `client_id` and outermost `act.sub`. */
  delegateAgentId: string;
  /** RFC 8693 nested `act`: outermost = the current actor (this delegate), then the earlier delegates. */
  act: ActClaim;
  /** The same actors as a list, outermost (current actor) first. */
  actChain: { sub: string }[];
  /** Earliest expiry of any hop or agent on the chain: the token's `exp` and the refresh family's end ≤ it. */
  expiresAt: Date;
  /** The chain's length (for policies' `max_delegation_depth`). */
  depth: number;
}

function earliest(...dates: (Date | null | undefined)[]): Date | null {
  const set = dates.filter((d): d is Date => d instanceof Date);
  return set.length ? new Date(Math.min(...set.map((d) => d.getTime()))) : null;
}

/** A revoked delegation as a cascade reports it: its own `delegation.revoked` event (docs/audit.md). */
function revokedByCascade(row: RevokedDelegationRow): CascadeRevocation {
  return {
    eventType: 'delegation.revoked',
    targetType: 'delegation',
    targetId: row.id,
    details: { delegator_agent_id: row.delegatorAgentId, delegate_agent_id: row.delegateAgentId },
  };
}

function markersFor(rows: RevokedDelegationRow[], at: Date): RevocationMarker[] {
  // A token minted from a delegation never outlives it (exp ≤ its expiry; refresh re-checks the row), so the
  // marker can be purged once the delegation has expired.
  return rows.map((r) => ({ kind: 'delegation', id: r.id, at, expiresAt: r.expiresAt }));
}

/**
 * Delegation chains (CONTRACT §6, docs/delegations.md): create with attenuation, list/get/chain, revoke with
 * cascade; the agent-deactivation cascade; and the read API of the `agent_delegation` grant
 * (`resolveForGrant`, `chainStatus`, `isChainValid`).
 */
@Injectable()
export class DelegationsService implements OnModuleInit {
  private readonly audience: string;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly delegations: DelegationsRepository,
    private readonly agents: AgentsService,
    private readonly cascade: AgentCascadeRegistry,
    private readonly revocation: RevocationService,
    private readonly signer: TokenSigner,
    private readonly verifier: TokenVerifier,
    private readonly clock: Clock,
    private readonly logger: PinoLogger,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly revocationHooks: DelegationRevocationRegistry,
    private readonly scopes: ScopeRegistry,
    private readonly audit: AuditService,
    @Optional() private readonly stats?: StatsRegistry,
  ) {
    this.logger.setContext('DelegationsService');
    this.audience = delegationTokenAudience(config);
  }

  onModuleInit(): void {
    this.cascade.register('delegations', {
      // CONTRACT §2: deactivation revokes every delegation to or from the subtree (and their descendants).
      // Suspension revokes nothing: the chain is invalid while an agent on it is inactive (`judgeChain`).
      // Each revoked delegation gets its own `delegation.revoked` event, recorded by AgentsService once the
      // deactivation commits.
      onDeactivated: async (manager, agentIds, at) => {
        const rows = await this.delegations.revokeForAgents(manager, agentIds, at);
        if (rows.length === 0) return [];
        await this.revokeMarkers(manager, rows, at);
        this.logger.info({ revoked_delegations: rows.length }, 'delegations revoked by agent deactivation');
        return rows.map(revokedByCascade);
      },
    });
    this.stats?.register({
      name: 'delegations',
      collect: async () => ({ active: await this.delegations.countActive(this.clock.now()) }),
    });
  }

  // ───────────────────────────── read API ─────────────────────────────

  /**
   * THE visibility check for a delegation id: visible when the caller's authority (`sub`) governs its
   * delegate or a delegator of its chain; else `NotFoundProblem` — what an unknown id gets.
   */
  async findVisible(principal: Principal, id: string): Promise<Delegation> {
    const delegation = await this.delegations.findVisible(
      treeScopeOf(principal.subjectAgentId),
      id.toLowerCase(),
    );
    if (!delegation) throw new NotFoundProblem('delegation');
    return delegation;
  }

  async list(principal: Principal, query: ListDelegationsQuery): Promise<Page<DelegationResponse>> {
    const after = query.cursor !== undefined ? decodeCursor(query.cursor) : undefined;
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const rows = await this.delegations.listVisible(
      treeScopeOf(principal.subjectAgentId),
      {
        status: query.status,
        delegatorAgentId: query.delegator_agent_id?.toLowerCase(),
        delegateAgentId: query.delegate_agent_id?.toLowerCase(),
        originalDelegatorId: query.original_delegator_id?.toLowerCase(),
        parentDelegationId: query.parent_delegation_id?.toLowerCase(),
      },
      after,
      limit,
    );
    return toPage(rows, limit, delegationView);
  }

  /** `GET /delegations/{id}/chain`: the visible delegation's chain and the verdict on it right now. */
  async chainOf(principal: Principal, id: string): Promise<ChainStatus> {
    const delegation = await this.findVisible(principal, id);
    const status = await this.chainStatus(delegation.id);
    if (!status) throw new NotFoundProblem('delegation');
    return status;
  }

  /**
   * The chain ending at `delegationId` (ONE query) and the verdict on it right now; `null` for an unknown
   * id. Not tenant-scoped: for the grant and refresh re-checks (the id comes from a verified token or from
   * the server's own refresh-token row).
   */
  async chainStatus(delegationId: string): Promise<ChainStatus | null> {
    if (!isUuid(delegationId)) return null;
    const chain = await this.delegations.chainUnscoped(delegationId.toLowerCase());
    if (chain.length === 0) return null;
    return { chain, verdict: await this.judge(chain) };
  }

  /** Refresh-time re-check: is the delegation and its whole chain usable right now? */
  async isChainValid(delegationId: string): Promise<boolean> {
    return (await this.chainStatus(delegationId))?.verdict.valid ?? false;
  }

  /**
   * The `agent_delegation` grant's one call: verifies the delegation token (signature, `typ:
   * delegation+jwt`, `iss`, `aud` = the token endpoint, `exp`), loads the delegation's chain in one query,
   * checks that the row is the one the token was issued for, that `callerAgentId` (the authenticated
   * client) is its delegate, every hop active and unexpired (Clock; exclusive), every agent on the chain
   * active. Every refusal is an `InvalidDelegationError` (map it to `invalid_grant`).
   */
  async resolveForGrant(delegationToken: string, callerAgentId: string): Promise<ResolvedDelegationGrant> {
    let claims: Record<string, unknown>;
    try {
      ({ payload: claims } = await this.verifier.verify(delegationToken, {
        typ: DELEGATION_TOKEN_TYP,
        audience: this.audience,
      }));
    } catch (error) {
      if (error instanceof InvalidTokenError) throw new InvalidDelegationError('invalid_token');
      throw error;
    }
    const delegationId = claims.delegation_id;
    if (typeof delegationId !== 'string' || !isUuid(delegationId)) {
      throw new InvalidDelegationError('invalid_token');
    }
    const chain = await this.delegations.chainUnscoped(delegationId.toLowerCase());
    const delegation = chain[chain.length - 1];
    if (
      !delegation ||
      delegation.id !== delegationId.toLowerCase() ||
      delegation.tokenJti !== claims.jti ||
      delegation.delegateAgentId !== claims.sub
    ) {
      throw new InvalidDelegationError('unknown_delegation');
    }
    if (typeof callerAgentId !== 'string' || callerAgentId.toLowerCase() !== delegation.delegateAgentId) {
      throw new InvalidDelegationError('not_delegate');
    }
    // CONTRACT §11: a consent is usable only through the authorization_code and refresh_token grants.
    if (chain.some((hop) => hop.kind !== 'delegation')) throw new InvalidDelegationError('wrong_grant');
    const verdict = await this.judge(chain);
    if (!verdict.valid) throw new InvalidDelegationError(verdict.reason ?? 'broken_chain');
    const delegates = chain.map((d) => d.delegateAgentId);
    return {
      delegation,
      chain,
      delegationIds: chain.map((d) => d.id),
      effectiveScopes: verdict.effectiveScopes,
      originalDelegatorId: delegation.originalDelegatorId,
      delegateAgentId: delegation.delegateAgentId,
      act: buildActClaim(delegates),
      actChain: [...delegates].reverse().map((sub) => ({ sub })),
      expiresAt: verdict.expiresAt,
      depth: delegation.depth,
    };
  }

  /** The chain verdict with every agent of the chain looked up now (one indexed query each, in parallel). */
  private async judge(chain: Delegation[]): Promise<ChainVerdict> {
    const ids = [...new Set(chainAgentIds(chain))];
    const activities = await Promise.all(ids.map((id) => this.agents.getActivity(id)));
    const states = new Map<string, ChainAgentState | undefined>(
      ids.map((id, i) => [id, activities[i] ? stateOf(activities[i]) : undefined]),
    );
    return judgeChain(chain, states, this.clock.now());
  }

  // ───────────────────────────── writes ─────────────────────────────

  /**
   * `POST /delegations`. The delegator is the caller: the token's `sub` (= its actor) for a direct token, the
   * actor (the current delegate) for a token carrying `act`, which may only re-delegate its own
   * `delegation_id` (CONTRACT §5). Everything is checked — under FOR SHARE locks on every agent involved and
   * on the parent chain — before the one INSERT; the token is signed after COMMIT (signing touches the
   * signing-key table on its own connection) and the row is revoked again if signing fails.
   */
  async create(
    principal: Principal,
    dto: CreateDelegationDto,
    options: DelegationOptions = {},
  ): Promise<CreatedDelegation> {
    const kind = options.kind ?? 'delegation';
    const expiresAt = parseTimestamp(dto.expires_at);
    if (!expiresAt) {
      throw new ValidationProblem('expires_at is invalid', [
        { field: 'expires_at', message: 'invalid timestamp' },
      ]);
    }
    // 400 unknown_scope before any attenuation check (403): an unregistered name is malformed for this tree.
    await this.scopes.assertRegistered(principal.rootAgentId, dto.scopes, 'scopes');
    const acting = actsOnBehalf(principal);
    const delegatorId = (acting ? principal.actorAgentId : principal.subjectAgentId).toLowerCase();
    const parentId = dto.parent_delegation_id?.toLowerCase();
    if (acting && (!principal.delegationId || parentId !== principal.delegationId.toLowerCase())) {
      throw new ForbiddenProblem(
        'A token carrying act creates delegations only by re-delegating its own delegation (parent_delegation_id = its delegation_id)',
        'act_not_allowed',
      );
    }

    // Ids in the body: another tree's agent or an invisible delegation answer exactly like unknown ones.
    const delegateId = dto.delegate_agent_id.toLowerCase();
    const delegate = await this.agents.getActivity(delegateId);
    if (!delegate || delegate.agent.rootAgentId !== principal.rootAgentId.toLowerCase()) {
      throw new NotFoundProblem('agent');
    }
    const parent = parentId ? await this.findVisible(principal, parentId) : null;
    if (parent && parent.delegateAgentId !== delegatorId) {
      throw new ForbiddenProblem('Only the delegate of a delegation may re-delegate it', 'not_delegate');
    }
    if ((parent && parent.kind !== 'delegation') || (parent && kind !== 'delegation')) {
      // CONTRACT §11: a consent (max_depth 0) is never re-delegated, and is always a first hop.
      throw new ForbiddenProblem(
        'A consent given at /auth/authorize cannot be re-delegated',
        'max_depth_exceeded',
      );
    }
    if (delegateId === delegatorId) {
      throw new BadRequestProblem('An agent cannot delegate to itself', 'self_delegation');
    }
    // The parent chain's agents never change (immutable columns): known before the transaction, so every
    // agent lock is taken before any delegation lock (the order the deactivation cascade follows too).
    const parentChain = parent ? await this.delegations.chainUnscoped(parent.id) : [];
    const chainAgents = chainAgentIds(parentChain);
    if (chainAgents.includes(delegateId)) {
      throw new BadRequestProblem(
        'The delegate is already a party of this chain (no cycles)',
        'delegation_cycle',
      );
    }

    const delegation = await this.dataSource.transaction(async (manager) => {
      const locked = new Map<string, AgentActivity>();
      for (const agentId of [...new Set([delegatorId, delegateId, ...chainAgents])]) {
        // FOR SHARE on the agent and its ancestors; 409 agent_inactive when it (or an ancestor) is inactive.
        locked.set(agentId, await this.agents.lockActiveChain(manager, agentId));
      }
      const delegator = locked.get(delegatorId) as AgentActivity;
      const delegateNow = locked.get(delegateId) as AgentActivity;
      const now = this.clock.now();

      let verdict: ChainVerdict | null = null;
      let chain: Delegation[] = [];
      if (parent) {
        chain = await this.delegations.chainUnscoped(parent.id, { manager, lock: 'share' });
        if (chain.map((d) => d.id).join() !== parentChain.map((d) => d.id).join()) {
          throw new ConflictProblem('The parent delegation changed; try again', 'conflict');
        }
        const states = new Map([...locked].map(([id, activity]) => [id, stateOf(activity)]));
        verdict = judgeChain(chain, states, now);
        if (!verdict.valid) {
          throw new ConflictProblem(
            `The parent delegation cannot be re-delegated (${verdict.reason})`,
            'delegation_inactive',
          );
        }
      }
      const top = chain[chain.length - 1];
      const hop = resolveNewHop(
        { scopes: dto.scopes, expiresAt, maxDepth: dto.max_depth },
        {
          now,
          maxLifetimeMs: this.config.maxDelegationLifetimeSeconds * 1000,
          tokenScopes: principal.scopes,
          grantable: verdict ? verdict.effectiveScopes : delegator.agent.allowedScopes,
          grantableLabel: verdict
            ? "the parent delegation's effective scopes"
            : "the delegator's allowed_scopes",
          expiryCeiling: earliest(
            verdict?.expiresAt,
            delegator.effectiveExpiresAt,
            delegateNow.effectiveExpiresAt,
          ),
          parent: top ? { depth: top.depth, maxDepth: top.maxDepth } : null,
        },
      );
      const id = randomUUID();
      const row = Object.assign(new Delegation(), {
        id,
        rootAgentId: delegator.agent.rootAgentId,
        originalDelegatorId: top ? top.originalDelegatorId : delegatorId,
        delegatorAgentId: delegatorId,
        delegateAgentId: delegateId,
        parentDelegationId: top ? top.id : null,
        scopes: hop.scopes,
        depth: hop.depth,
        maxDepth: hop.maxDepth,
        path: `${top ? top.path : ''}${id}/`,
        tokenJti: randomUUID(),
        status: 'active',
        expiresAt: hop.expiresAt,
        createdAt: now,
        revokedAt: null,
        revocationReason: null,
        kind,
        resource: options.resource ?? null,
      } satisfies Delegation);
      await this.delegations.insert(manager, row);
      return row;
    });

    try {
      const claims: DelegationTokenClaims = {
        sub: delegation.delegateAgentId,
        aud: this.audience,
        jti: delegation.tokenJti,
        delegation_id: delegation.id,
        delegator_agent_id: delegation.delegatorAgentId,
        original_delegator_id: delegation.originalDelegatorId,
        scope: formatScopeParam(delegation.scopes),
        depth: delegation.depth,
      };
      const signed = await this.signer.signDelegationToken({ ...claims }, delegation.expiresAt);
      return { delegation, delegationToken: signed.jwt };
    } catch (error) {
      await this.delegations.revokeUnissued(delegation.id, this.clock.now()).catch((e: unknown) => {
        this.logger.error(
          { delegation_id: delegation.id, error: (e as Error).message },
          'could not revoke a delegation whose token was not issued',
        );
      });
      throw error;
    }
  }

  /**
   * `DELETE /delegations/{id}`: revokes the delegation and every descendant in ONE transaction, with a
   * `delegation` revocation marker for each (so every access token and refresh family minted from any of
   * them dies: they carry their own `delegation_id`). Anyone who sees the delegation may revoke it (the
   * delegator side and the delegate side, docs/delegations.md); a token carrying `act` only its own
   * delegation or one below it. Returns the ids it revoked, top-down (`[]` when already revoked), and the
   * delegation's two parties (the route's own event names them: webhooks deliver it to their subtrees).
   *
   * Once committed, every descendant it revoked gets its own `delegation.revoked` event (cause
   * `parent_delegation_revoked`, with the request's actor, IP and request id); the route's own event for
   * the delegation itself follows. Resolves only when they are committed.
   */
  async revoke(
    principal: Principal,
    id: string,
    origin: AuditOrigin = {},
  ): Promise<{ ids: string[]; delegatorAgentId: string; delegateAgentId: string }> {
    const target = await this.findVisible(principal, id);
    if (actsOnBehalf(principal)) {
      const own = principal.delegationId?.toLowerCase();
      if (!own || !delegationIdsInPath(target.path).includes(own)) {
        throw new ForbiddenProblem(
          'A token carrying act may revoke only its own delegation and the re-delegations below it',
          'act_not_allowed',
        );
      }
    }
    const rows = await this.dataSource.transaction(async (manager) => {
      const now = this.clock.now();
      // Its own statement first: a racing re-delegation below it holds this row FOR SHARE until it commits.
      const locked = await this.delegations.lockForUpdateUnscoped(manager, target.id);
      if (!locked) throw new NotFoundProblem('delegation');
      const revoked = await this.delegations.revokeSubtree(manager, locked.path, now, {
        top: 'revoked',
        descendants: 'parent_revoked',
      });
      await this.revokeMarkers(manager, revoked, now);
      return revoked;
    });
    await this.audit.recordAll(
      cascadeAuditEvents(
        rows.filter((r) => r.id !== target.id).map(revokedByCascade),
        { cause: 'parent_delegation_revoked', cause_delegation_id: target.id },
        requestAuditFields(principal, origin),
      ),
    );
    return {
      ids: rows.map((r) => r.id),
      delegatorAgentId: target.delegatorAgentId,
      delegateAgentId: target.delegateAgentId,
    };
  }

  /**
   * Everything minted from revoked delegations dies: a `delegation` marker each (access tokens carry their
   * `delegation_id`), then the registered hooks (the token side revokes the refresh families), all in the
   * revoking transaction.
   */
  private async revokeMarkers(manager: EntityManager, rows: RevokedDelegationRow[], at: Date): Promise<void> {
    if (rows.length === 0) return;
    await this.revocation.revoke(markersFor(rows, at), manager);
    await this.revocationHooks.revoked(
      manager,
      rows.map((r) => r.id),
      at,
    );
  }
}

function stateOf(activity: AgentActivity): ChainAgentState {
  return {
    active: activity.active,
    allowedScopes: activity.agent.allowedScopes,
    effectiveExpiresAt: activity.effectiveExpiresAt,
  };
}

import { randomUUID } from 'node:crypto';
import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { PinoLogger } from 'nestjs-pino';
import { DataSource, type EntityManager } from 'typeorm';
import {
  type Agent,
  AgentCascadeRegistry,
  type AgentScopeChange,
  AgentsService,
  type RootScopesExtension,
  treeScopeOf,
} from '@agentauth/agents';
import {
  assertDirectAuthority,
  APP_CONFIG,
  type AppConfig,
  Clock,
  ConflictProblem,
  ForbiddenProblem,
  NotFoundProblem,
  pgErrorCode,
  PG_UNIQUE_VIOLATION,
  type Principal,
  ScopeEscalationProblem,
  ValidationProblem,
  decodeCursor,
  DEFAULT_PAGE_SIZE,
  type Page,
  parseTimestamp,
  toPage,
} from '@agentauth/core';
import { ScopeRegistry } from '@agentauth/scope-registry';
import { intersect, isSubset, normalize, uncovered } from '@agentauth/scopes';
import { formatApiKey, generatePrefix, generateSecret, parseApiKey } from './api-key';
import { ApiKeyHasher } from './api-key.hasher';
import { CredentialLifecycleRegistry } from './credential-lifecycle.registry';
import { credentialEndsAt, credentialState } from './credential-rules';
import { Credential, type CredentialType } from './credential.entity';
import { InvalidClientCredentials, type InvalidClientReason } from './credentials.errors';
import { CredentialsRepository } from './credentials.repository';
import type { CreateCredentialDto } from './dto/create-credential.dto';
import { type CredentialResponse, credentialView } from './dto/credential.response';
import type { ListCredentialsQuery } from './dto/list-credentials.query';
import type { RotateCredentialDto } from './dto/rotate-credential.dto';
import { InvalidJwkError, type ParsedPublicKey, parsePublicJwk } from './public-key';

/** `last_used_at` is written at most this often per key. */
export const LAST_USED_RESOLUTION_MS = 60_000;

/** A credential that verified (an API key, or a public key whose signature verified): its credential, its (active) agent, and what it may do. */
export interface VerifiedApiKey {
  credential: Credential;
  agent: Agent;
  /** The key's scopes ∩ the agent's current allowed_scopes. */
  scopes: string[];
  /** The first instant at which the key or its agent chain stops working (null: never). */
  validUntil: Date | null;
  /** The earliest `expires_at` of the agent and its ancestors (null: none). */
  agentExpiresAt: Date | null;
  /** `require_dpop` on the agent or an ancestor (CONTRACT §10). */
  requiresDpop: boolean;
}

export type VerifiedCredential = VerifiedApiKey;

/**
 * A freshly issued credential: the row and, for an API key, the raw key (to be shown once, never stored or
 * logged); null for a public key (there is no secret).
 */
export interface IssuedKey {
  credential: Credential;
  apiKey: string | null;
}

/** A secret and its hash, made before a transaction (see `prepareSecret`). Never logged. */
export interface PreparedSecret {
  secret: string;
  hash: string;
}

export interface RotationResult {
  credential: Credential;
  apiKey: string | null;
  previous: Credential;
}

/** What a public-key credential is created from: a JWK (validated by `parsePublicJwk`). */
export interface CredentialKeySpec {
  type?: CredentialType;
  jwk?: Record<string, unknown>;
}

/** A public key of an agent for client authentication: the row (usable or not, checked after the signature). */
export type PublicKeyCandidate = Credential & { type: 'public_key'; jwk: NonNullable<Credential['jwk']> };

/** The unique indexes an agent's active public keys must respect. */
const PUBLIC_KEY_UNIQUE_INDEXES = ['credentials_public_key_kid_idx', 'credentials_public_key_thumbprint_idx'];

function earliest(...dates: (Date | null)[]): Date | null {
  const set = dates.filter((d): d is Date => d !== null);
  return set.length ? new Date(Math.min(...set.map((d) => d.getTime()))) : null;
}

/**
 * API keys (CONTRACT §3): issue, verify, rotate with grace, revoke. Registers the credentials side of the
 * agent cascades (deactivation revokes, narrowing narrows) with `AgentCascadeRegistry`.
 */
@Injectable()
export class CredentialsService implements OnModuleInit {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly credentials: CredentialsRepository,
    private readonly agents: AgentsService,
    private readonly cascade: AgentCascadeRegistry,
    private readonly lifecycle: CredentialLifecycleRegistry,
    private readonly hasher: ApiKeyHasher,
    private readonly clock: Clock,
    private readonly logger: PinoLogger,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly scopes: ScopeRegistry,
  ) {
    this.logger.setContext('CredentialsService');
  }

  onModuleInit(): void {
    this.cascade.register('credentials', {
      onDeactivated: async (manager, agentIds, at) => {
        const revoked = await this.credentials.revokeForAgents(manager, agentIds, at);
        await this.lifecycle.revoked(
          manager,
          revoked.map((key) => key.id),
          at,
        );
        // One `credential.revoked` event per key, recorded by AgentsService once this commits.
        return revoked.map((key) => ({
          eventType: 'credential.revoked',
          targetType: 'credential',
          targetId: key.id,
          details: { agent_id: key.agentId },
        }));
      },
      onScopesNarrowed: (manager, changes, _at) => this.narrowScopes(manager, changes),
      onRootScopesExtended: (manager, change, _at) => this.extendFullRootKeys(manager, change),
    });
  }

  // ───────────────────────────── verification ─────────────────────────────

  /**
   * Client authentication for `agentId` (the token endpoint's `client_id`) with a raw API key. One indexed
   * read + one argon2id verify (a dummy verify when nothing matches), then the state checks; every failure
   * is the same `InvalidClientCredentials`. Records `last_used_at` at most once a minute per key.
   */
  async verifyApiKey(agentId: string, rawKey: string): Promise<VerifiedApiKey> {
    return this.verify(rawKey, agentId);
  }

  private async verify(rawKey: string, expectedAgentId: string): Promise<VerifiedApiKey> {
    const fail = (reason: InvalidClientReason): never => {
      this.logger.debug({ reason }, 'api key verification failed');
      throw new InvalidClientCredentials(reason);
    };
    const parsed = typeof rawKey === 'string' ? parseApiKey(rawKey) : null;
    const credential = parsed ? await this.credentials.findByPrefixForAuthentication(parsed.prefix) : null;
    if (!parsed || !credential || credential.hash === null) {
      await this.hasher.verifyDummy(parsed?.secret ?? String(rawKey));
      return fail(parsed ? 'unknown_key' : 'malformed_key');
    }
    if (!(await this.hasher.verify(credential.hash, parsed.secret))) return fail('wrong_secret');
    if (credential.agentId !== String(expectedAgentId).toLowerCase()) {
      return fail('agent_mismatch');
    }
    return this.usableFor(credential, fail);
  }

  /**
   * The public keys of `agentId` a client assertion may be verified with (CONTRACT §9): its active,
   * public-key credentials — only the one(s) named `kid` when the assertion's header names one. Whether a key
   * is still usable (expired, rotated out) and whether its agent is active is checked after the signature
   * verified (`verifiedPublicKey`), so every failure costs a signature verification.
   */
  async publicKeyCandidates(agentId: string, kid: string | undefined): Promise<PublicKeyCandidate[]> {
    const rows = await this.credentials.activePublicKeysForAuthentication(agentId, kid);
    return rows.filter((c): c is PublicKeyCandidate => c.type === 'public_key' && c.jwk !== null);
  }

  /**
   * A public key whose signature verified: the same state checks as an API key (revoked, expired, rotated
   * out past grace, inactive agent chain → `InvalidClientCredentials`), `last_used_at`, and what it may do.
   */
  async verifiedPublicKey(credential: PublicKeyCandidate): Promise<VerifiedCredential> {
    return this.usableFor(credential, (reason) => {
      this.logger.debug({ reason }, 'public key verification failed');
      throw new InvalidClientCredentials(reason);
    });
  }

  private async usableFor(
    credential: Credential,
    fail: (reason: InvalidClientReason) => never,
  ): Promise<VerifiedCredential> {
    const now = this.clock.now();
    const state = credentialState(credential, now);
    if (state !== 'usable') return fail(state);
    const activity = await this.agents.getActivity(credential.agentId);
    if (!activity || !activity.active) return fail('agent_inactive');
    if (activity.agent.clientType === 'public') return fail('public_client');
    await this.touch(credential, now);
    return {
      credential,
      agent: activity.agent,
      scopes: intersect(credential.scopes, activity.agent.allowedScopes),
      validUntil: earliest(credentialEndsAt(credential), activity.effectiveExpiresAt),
      agentExpiresAt: activity.effectiveExpiresAt,
      requiresDpop: activity.requiresDpop,
    };
  }

  private async touch(credential: Credential, now: Date): Promise<void> {
    const last = credential.lastUsedAt?.getTime();
    if (last !== undefined && now.getTime() - last < LAST_USED_RESOLUTION_MS) return;
    try {
      await this.credentials.touchLastUsed(credential.id, now, LAST_USED_RESOLUTION_MS);
    } catch (error) {
      // Bookkeeping only: never fail an authentication because of it.
      this.logger.warn(
        { credential_id: credential.id, error: (error as Error).message },
        'last_used_at not recorded',
      );
    }
  }

  // ───────────────────────────── management ─────────────────────────────

  /**
   * UNSCOPED, for cascades of other contexts (the token cascade of a root gaining a scope): the ids of an
   * agent's active credentials, read in the caller's transaction. Never for a request's caller.
   */
  async activeCredentialIdsUnscoped(manager: EntityManager, agentId: string): Promise<string[]> {
    return this.credentials.activeIdsOfAgentUnscoped(manager, agentId);
  }

  /** THE visibility check for a credential id: its agent must be in the caller's subtree, else 404. */
  async findVisible(principal: Principal, id: string): Promise<Credential> {
    const credential = await this.credentials.findVisible(
      treeScopeOf(principal.subjectAgentId),
      id.toLowerCase(),
    );
    if (!credential) throw new NotFoundProblem('credential');
    return credential;
  }

  /**
   * A new secret and its argon2id hash. Hashing is the slow part: do it before the transaction takes its
   * locks and pass the result to `issue`.
   */
  async prepareSecret(): Promise<PreparedSecret> {
    const secret = generateSecret();
    return { secret, hash: await this.hasher.hash(secret) };
  }

  /**
   * Issues a key for `agent` inside the caller's transaction (the caller has checked the agent and the
   * scopes). The raw key exists only in the returned value.
   */
  async issue(
    manager: EntityManager,
    agent: Pick<Agent, 'id'>,
    spec: { name: string | null; scopes: string[]; expiresAt: Date | null },
    prepared?: PreparedSecret,
  ): Promise<IssuedKey> {
    const { secret, hash } = prepared ?? (await this.prepareSecret());
    for (let attempt = 0; ; attempt++) {
      const prefix = generatePrefix();
      const credential = this.newCredential(agent, spec, {
        type: 'api_key',
        prefix,
        hash,
        jwk: null,
        kid: null,
        alg: null,
        thumbprint: null,
      });
      try {
        // A savepoint, so a (vanishingly rare) prefix collision can retry inside the caller's transaction.
        await manager.transaction((inner) => this.credentials.insert(inner, credential));
        return { credential, apiKey: formatApiKey(prefix, secret) };
      } catch (error) {
        if (pgErrorCode(error) !== PG_UNIQUE_VIOLATION || attempt >= 2) throw error;
      }
    }
  }

  /** A new active credential of `agent`: the fields every type shares, plus its key material. */
  private newCredential(
    agent: Pick<Agent, 'id'>,
    spec: { name: string | null; scopes: string[]; expiresAt: Date | null },
    material: Pick<Credential, 'type' | 'prefix' | 'hash' | 'jwk' | 'kid' | 'alg' | 'thumbprint'>,
  ): Credential {
    return Object.assign(new Credential(), {
      id: randomUUID(),
      agentId: agent.id,
      name: spec.name,
      ...material,
      scopes: spec.scopes,
      status: 'active',
      expiresAt: spec.expiresAt,
      graceUntil: null,
      rotatedToId: null,
      lastUsedAt: null,
      createdAt: this.clock.now(),
      revokedAt: null,
    } satisfies Credential);
  }

  /**
   * Registers a public key for `agent` inside the caller's transaction (the caller has checked the agent
   * and the scopes). An active public key of the agent with the same `kid` or thumbprint → 409.
   */
  async issuePublicKey(
    manager: EntityManager,
    agent: Pick<Agent, 'id'>,
    spec: { name: string | null; scopes: string[]; expiresAt: Date | null },
    key: ParsedPublicKey,
  ): Promise<Credential> {
    const credential = this.newCredential(agent, spec, {
      type: 'public_key',
      prefix: null,
      hash: null,
      jwk: key.jwk,
      kid: key.kid,
      alg: key.alg,
      thumbprint: key.thumbprint,
    });
    try {
      await manager.transaction((inner) => this.credentials.insert(inner, credential));
    } catch (error) {
      const constraint = (error as { constraint?: unknown }).constraint;
      if (
        pgErrorCode(error) === PG_UNIQUE_VIOLATION &&
        typeof constraint === 'string' &&
        PUBLIC_KEY_UNIQUE_INDEXES.includes(constraint)
      ) {
        throw new ConflictProblem(
          'The agent already has an active public key with this kid or this key (thumbprint)',
          'public_key_exists',
        );
      }
      throw error;
    }
    return credential;
  }

  /**
   * A credential's key material from a request (`type`, `jwk`): a validated public key for
   * `type: "public_key"` (400 without a valid public `jwk`), null for an API key (400 if a `jwk` is sent).
   */
  async parseKeySpec(spec: CredentialKeySpec, field = 'jwk'): Promise<ParsedPublicKey | null> {
    const type = spec.type ?? (spec.jwk !== undefined ? 'public_key' : 'api_key');
    if (type === 'api_key') {
      if (spec.jwk !== undefined) {
        throw new ValidationProblem('jwk is only for public-key credentials', [
          { field, message: 'jwk is only for type "public_key"' },
        ]);
      }
      return null;
    }
    if (spec.jwk === undefined) {
      throw new ValidationProblem('A public-key credential needs a jwk', [
        { field, message: 'jwk is required for type "public_key"' },
      ]);
    }
    try {
      return await parsePublicJwk(spec.jwk);
    } catch (error) {
      if (error instanceof InvalidJwkError) {
        throw new ValidationProblem(error.message, [{ field, message: error.message }]);
      }
      throw error;
    }
  }

  /** An API key (`prepared`) or a public key (`key`) for `agent`, in the caller's transaction. */
  async issueCredential(
    manager: EntityManager,
    agent: Pick<Agent, 'id'>,
    spec: { name: string | null; scopes: string[]; expiresAt: Date | null },
    material: { key: ParsedPublicKey } | { prepared: PreparedSecret },
  ): Promise<IssuedKey> {
    if ('key' in material) {
      return { credential: await this.issuePublicKey(manager, agent, spec, material.key), apiKey: null };
    }
    return this.issue(manager, agent, spec, material.prepared);
  }

  /** `POST /credentials`. Not for tokens carrying `act` (CONTRACT §5). */
  async create(principal: Principal, dto: CreateCredentialDto): Promise<IssuedKey> {
    this.assertDirectAuthority(principal);
    const key = await this.parseKeySpec(dto);
    if (dto.scopes) await this.scopes.assertRegistered(principal.rootAgentId, dto.scopes, 'scopes');
    const agentId = dto.agent_id
      ? (await this.agents.findVisible(principal, dto.agent_id)).id
      : principal.subjectAgentId;
    const requestedExpiry = dto.expires_at ? parseTimestamp(dto.expires_at) : null;
    const material = key ? { key } : { prepared: await this.prepareSecret() };
    return this.dataSource.transaction(async (manager) => {
      const { agent, effectiveExpiresAt } = await this.agents.lockActiveChain(manager, agentId);
      if (agent.clientType === 'public') {
        // CONTRACT §11: a public client holds no credentials; it uses the authorization-code flow with PKCE.
        throw new ConflictProblem(
          'A public client holds no credentials (it uses the authorization-code flow with PKCE)',
          'public_client',
        );
      }
      let scopes: string[];
      if (dto.scopes !== undefined) {
        scopes = normalize(dto.scopes);
        this.assertScopesAllowed(scopes, agent.allowedScopes, principal.scopes);
      } else {
        // A default is not a request: it is what the agent may do that the caller may hand out.
        scopes = intersect(agent.allowedScopes, principal.scopes);
      }
      const now = this.clock.now();
      let expiresAt = requestedExpiry ?? null;
      if (expiresAt && expiresAt.getTime() <= now.getTime()) {
        throw new ValidationProblem('expires_at must be in the future', [
          { field: 'expires_at', message: 'expires_at must be in the future' },
        ]);
      }
      if (effectiveExpiresAt) {
        if (expiresAt && expiresAt.getTime() > effectiveExpiresAt.getTime()) {
          throw new ForbiddenProblem(
            `expires_at may not be later than the agent's (${effectiveExpiresAt.toISOString()})`,
            'lifetime_escalation',
          );
        }
        expiresAt = expiresAt ?? effectiveExpiresAt;
      }
      return this.issueCredential(manager, agent, { name: dto.name ?? null, scopes, expiresAt }, material);
    });
  }

  /** `GET /credentials`: the caller's subtree's credentials (masked by the view). */
  async list(principal: Principal, query: ListCredentialsQuery): Promise<Page<CredentialResponse>> {
    const after = query.cursor !== undefined ? decodeCursor(query.cursor) : undefined;
    const agentId = query.agent_id
      ? (await this.agents.findVisible(principal, query.agent_id)).id
      : undefined;
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const rows = await this.credentials.listVisible(
      treeScopeOf(principal.subjectAgentId),
      { agentId, status: query.status },
      after,
      limit,
    );
    return toPage(rows, limit, credentialView);
  }

  /**
   * `POST /credentials/{id}/rotate`: a new key with the same agent, type, name, scopes and expiry (a public
   * key is replaced by the body's `jwk`); the old key works until now + `grace_period_seconds` (0: stops at
   * once). Rotating a rotated, revoked or expired key is a 409.
   */
  async rotate(principal: Principal, id: string, dto: RotateCredentialDto): Promise<RotationResult> {
    this.assertDirectAuthority(principal);
    const grace = dto.grace_period_seconds ?? 0;
    if (grace > this.config.maxCredentialGraceSeconds) {
      throw new ValidationProblem('grace_period_seconds is too large', [
        {
          field: 'grace_period_seconds',
          message: `must not be greater than ${this.config.maxCredentialGraceSeconds}`,
        },
      ]);
    }
    const visible = await this.findVisible(principal, id);
    const key = await this.parseKeySpec({ type: visible.type, jwk: dto.jwk });
    const material = key ? { key } : { prepared: await this.prepareSecret() };
    return this.dataSource.transaction(async (manager) => {
      const { agent } = await this.agents.lockActiveChain(manager, visible.agentId);
      const old = await this.credentials.lockForUpdateUnscoped(manager, visible.id);
      if (!old) throw new NotFoundProblem('credential');
      const now = this.clock.now();
      const state = credentialState(old, now);
      if (old.rotatedToId)
        throw new ConflictProblem('The credential was already rotated', 'credential_rotated');
      if (state !== 'usable') throw new ConflictProblem(`The credential is ${state}`, `credential_${state}`);
      this.assertScopesAllowed(old.scopes, agent.allowedScopes, principal.scopes);
      const graceUntil = new Date(now.getTime() + grace * 1000);
      // The old key is marked first: an agent's unique `kid` concerns its not-rotated keys only.
      const placeholder = old.id;
      await this.credentials.markRotated(manager, old.id, placeholder, graceUntil);
      const issued = await this.issueCredential(
        manager,
        agent,
        { name: old.name, scopes: old.scopes, expiresAt: old.expiresAt },
        material,
      );
      await this.credentials.markRotated(manager, old.id, issued.credential.id, graceUntil);
      await this.lifecycle.rotated(manager, { credentialId: old.id, agentId: old.agentId, graceUntil }, now);
      return {
        credential: issued.credential,
        apiKey: issued.apiKey,
        previous: Object.assign(old, { rotatedToId: issued.credential.id, graceUntil }),
      };
    });
  }

  /** `DELETE /credentials/{id}`: stops the key at once. Idempotent (a revoked key stays revoked). */
  async revoke(principal: Principal, id: string): Promise<Credential> {
    this.assertDirectAuthority(principal);
    const visible = await this.findVisible(principal, id);
    return this.dataSource.transaction(async (manager) => {
      const now = this.clock.now();
      if (await this.credentials.revoke(manager, visible.id, now)) {
        await this.lifecycle.revoked(manager, [visible.id], now);
      }
      return (await this.credentials.lockForUpdateUnscoped(manager, visible.id)) ?? visible;
    });
  }

  // ───────────────────────────── rules ─────────────────────────────

  /** CONTRACT §5: a token carrying `act` cannot create, rotate or revoke credentials. */
  private assertDirectAuthority(principal: Principal): void {
    assertDirectAuthority(principal, 'create, rotate or revoke credentials');
  }

  /** A key's scopes ⊆ its agent's allowed_scopes and ⊆ the calling token's scopes, else 403. */
  private assertScopesAllowed(
    scopes: string[],
    agentScopes: readonly string[],
    tokenScopes: readonly string[],
  ): void {
    const beyondAgent = uncovered(scopes, agentScopes);
    if (beyondAgent.length > 0) {
      throw new ScopeEscalationProblem(`scopes exceed the agent's allowed_scopes: ${beyondAgent.join(' ')}`);
    }
    const beyondToken = uncovered(scopes, tokenScopes);
    if (beyondToken.length > 0) {
      throw new ScopeEscalationProblem(
        `scopes exceed the scopes of the calling token: ${beyondToken.join(' ')}`,
      );
    }
  }

  /** Agent narrowing cascade: every active key of a narrowed agent is intersected with its new set. */
  private async narrowScopes(manager: EntityManager, changes: AgentScopeChange[]): Promise<void> {
    const byAgent = new Map(changes.map((c) => [c.agentId, c.allowedScopes]));
    const credentials = await this.credentials.activeForAgentsForUpdate(manager, [...byAgent.keys()]);
    const updates = credentials
      .map((c) => ({ id: c.id, before: c.scopes, scopes: intersect(c.scopes, byAgent.get(c.agentId) ?? []) }))
      .filter((u) => uncovered(u.before, u.scopes).length > 0)
      .map(({ id, scopes }) => ({ id, scopes }));
    await this.credentials.setScopes(manager, updates);
  }

  /**
   * A root gained a newly registered scope of its tree. Its keys that held everything it held before (its
   * "full" keys, e.g. the bootstrap key) gain it too, so the root can use and hand out the scope without a
   * key that exceeds the calling token (CONTRACT §5). Narrower keys stay as they are.
   */
  private async extendFullRootKeys(manager: EntityManager, change: RootScopesExtension): Promise<void> {
    const credentials = await this.credentials.activeForAgentsForUpdate(manager, [change.agentId]);
    const updates = credentials
      .filter((c) => isSubset(change.before, c.scopes))
      .map((c) => ({ id: c.id, before: c.scopes, scopes: normalize([...c.scopes, ...change.after]) }))
      .filter((u) => uncovered(u.scopes, u.before).length > 0)
      .map(({ id, scopes }) => ({ id, scopes }));
    await this.credentials.setScopes(manager, updates);
  }
}

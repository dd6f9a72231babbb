import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AgentsService, treeScopeOf } from '@agentauth/agents';
import { StatsRegistry } from '@agentauth/audit';
import {
  assertDirectAuthority,
  APP_CONFIG,
  type AppConfig,
  Clock,
  ConflictProblem,
  decodeCursor,
  DEFAULT_PAGE_SIZE,
  type FieldError,
  NotFoundProblem,
  type Page,
  pgErrorCode,
  PG_UNIQUE_VIOLATION,
  type Principal,
  toPage,
  ValidationProblem,
} from '@agentauth/core';
import { RevocationService } from '@agentauth/revocation';
import { RESERVED_SCOPE_NAMESPACES, ScopeRegistry } from '@agentauth/scope-registry';
import { normalize } from '@agentauth/scopes';
import type { CreateResourceServerDto, UpdateResourceServerDto } from './dto/resource-server-body.dto';
import {
  type ListResourceServersQuery,
  type ResourceServerResponse,
  resourceServerView,
} from './dto/resource-server.response';
import { ResourceServerDeletionRegistry } from './resource-server-deletion.registry';
import { ResourceServer } from './resource-server.entity';
import { identifierProblems } from './resource-server-identifier';
import { type ResourceServerPatch, ResourceServersRepository } from './resource-servers.repository';

/** Slack on top of the longest life of a token the deletion marker kills. */
const MARKER_MARGIN_MS = 5 * 60_000;

/** What token issuance needs to know about a resource server (a plain snapshot, no entity). */
export interface ResourceServerTarget {
  id: string;
  rootAgentId: string;
  identifier: string;
  scopes: string[];
  agentId: string | null;
  accessTokenTtlSeconds: number | null;
  dpopRequired: boolean;
}

function targetOf(server: ResourceServer): ResourceServerTarget {
  return {
    id: server.id,
    rootAgentId: server.rootAgentId,
    identifier: server.identifier,
    scopes: server.scopes,
    agentId: server.agentId,
    accessTokenTtlSeconds: server.accessTokenTtlSeconds,
    dpopRequired: server.dpopRequired,
  };
}

/**
 * Resource servers (CONTRACT §8, docs/resource-servers.md): the APIs of a tree that accept AgentAuth tokens.
 * Owned like policies: the creating token's `sub` and its ancestors see, change and delete one (everyone
 * else: 404); a token carrying `act` cannot create, change or delete one. Every agent of the tree may ask
 * for tokens for any of them (`findForIssuance`). Deleting one kills its outstanding tokens (a
 * `resource_server` revocation marker: tokens for it carry `resource_server_id`) and, through the deletion
 * hooks, its refresh families — in the deleting transaction.
 */
@Injectable()
export class ResourceServersService implements OnModuleInit {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly servers: ResourceServersRepository,
    private readonly agents: AgentsService,
    private readonly scopeRegistry: ScopeRegistry,
    private readonly revocation: RevocationService,
    private readonly deletionHooks: ResourceServerDeletionRegistry,
    private readonly clock: Clock,
    private readonly stats: StatsRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.stats.register({
      name: 'resource_servers',
      collect: async () => ({ total: await this.servers.countAll() }),
    });
  }

  /** THE visibility check for a resource server id: owned by the caller's authority or a descendant, else 404. */
  async findVisible(principal: Principal, id: string): Promise<ResourceServer> {
    const server = await this.servers.findVisible(
      treeScopeOf(principal.subjectAgentId),
      principal.rootAgentId,
      id.toLowerCase(),
    );
    if (!server) throw new NotFoundProblem('resource server');
    return server;
  }

  async list(principal: Principal, query: ListResourceServersQuery): Promise<Page<ResourceServerResponse>> {
    const after = query.cursor !== undefined ? decodeCursor(query.cursor) : undefined;
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const rows = await this.servers.listVisible(
      treeScopeOf(principal.subjectAgentId),
      principal.rootAgentId,
      after,
      limit,
    );
    return toPage(rows, limit, resourceServerView);
  }

  /** `POST /resource-servers`. */
  async create(principal: Principal, dto: CreateResourceServerDto): Promise<ResourceServer> {
    assertDirectAuthority(principal, 'create, change or delete resource servers');
    const problems = identifierProblems(dto.identifier, {
      publicBaseUrl: this.config.publicBaseUrl,
      production: this.config.environment === 'production',
    });
    if (problems.length > 0) throw new ValidationProblem('The identifier is not acceptable', problems);
    const scopes = await this.checkedScopes(principal, dto.scopes);
    const agentId = await this.checkedAgent(principal, dto.agent_id);
    const ttl = this.checkedTtl(dto.access_token_ttl_seconds);
    const now = this.clock.now();
    const server = Object.assign(new ResourceServer(), {
      id: randomUUID(),
      rootAgentId: principal.rootAgentId,
      ownerAgentId: principal.subjectAgentId,
      identifier: dto.identifier,
      name: dto.name,
      description: dto.description ?? null,
      scopes,
      agentId,
      accessTokenTtlSeconds: ttl,
      dpopRequired: dto.dpop_required ?? false,
      createdAt: now,
      updatedAt: now,
    } satisfies ResourceServer);
    try {
      await this.dataSource.transaction((manager) => this.servers.insert(manager, server));
    } catch (error) {
      if (pgErrorCode(error) === PG_UNIQUE_VIOLATION) {
        // Whichever tree holds it: the identifier is the `aud` every tree's tokens are checked against.
        throw new ConflictProblem('This identifier is already registered', 'identifier_unavailable');
      }
      throw error;
    }
    return server;
  }

  /** `PATCH /resource-servers/{id}`: each given field replaces the stored one. The identifier never changes. */
  async update(
    principal: Principal,
    id: string,
    dto: UpdateResourceServerDto,
  ): Promise<{ server: ResourceServer; changedFields: string[] }> {
    assertDirectAuthority(principal, 'create, change or delete resource servers');
    const fields = Object.entries(dto)
      .filter(([, value]) => value !== undefined)
      .map(([field]) => field);
    if (fields.length === 0) throw new ValidationProblem('Nothing to update', []);
    const current = await this.findVisible(principal, id);
    const patch: ResourceServerPatch = {};
    if (dto.name !== undefined) patch.name = dto.name;
    if (dto.description !== undefined) patch.description = dto.description;
    if (dto.scopes !== undefined) patch.scopes = await this.checkedScopes(principal, dto.scopes);
    if (dto.agent_id !== undefined) patch.agentId = await this.checkedAgent(principal, dto.agent_id);
    if (dto.access_token_ttl_seconds !== undefined) {
      patch.accessTokenTtlSeconds = this.checkedTtl(dto.access_token_ttl_seconds);
    }
    if (dto.dpop_required !== undefined) patch.dpopRequired = dto.dpop_required;
    const now = this.clock.now();
    const server = await this.dataSource.transaction(async (manager) => {
      const row = await this.servers.update(manager, current.rootAgentId, current.id, patch, now);
      if (!row) throw new NotFoundProblem('resource server');
      return row;
    });
    return { server, changedFields: fields };
  }

  /**
   * `DELETE /resource-servers/{id}`: in one transaction the row goes, a `resource_server` marker kills every
   * token minted for it (and every token exchanged from one), and the deletion hooks revoke its refresh
   * families. Registering the identifier again creates a new server (a new id): nothing revives.
   */
  async delete(principal: Principal, id: string): Promise<ResourceServer> {
    assertDirectAuthority(principal, 'create, change or delete resource servers');
    const current = await this.findVisible(principal, id);
    const at = this.clock.now();
    await this.dataSource.transaction(async (manager) => {
      if (!(await this.servers.delete(manager, current.rootAgentId, current.id))) {
        throw new NotFoundProblem('resource server');
      }
      await this.revocation.revoke(
        [
          {
            kind: 'resource_server',
            id: current.id,
            at,
            expiresAt: new Date(
              at.getTime() + this.config.accessTokenExpireMinutes * 60_000 + MARKER_MARGIN_MS,
            ),
          },
        ],
        manager,
      );
      await this.deletionHooks.deleted(manager, current.id, at);
    });
    return current;
  }

  /**
   * The resource server of the tree `rootAgentId` registered under exactly `identifier`, or null — the same
   * null for another tree's server and for an unknown identifier (token requests answer `invalid_target`).
   */
  async findForIssuance(rootAgentId: string, identifier: string): Promise<ResourceServerTarget | null> {
    const server = await this.servers.findByIdentifier(rootAgentId, identifier);
    return server ? targetOf(server) : null;
  }

  /** The tree's server with this id (a refresh family's), or null once it was deleted. */
  async findByIdForIssuance(rootAgentId: string, id: string): Promise<ResourceServerTarget | null> {
    const server = await this.servers.findById(rootAgentId, id);
    return server ? targetOf(server) : null;
  }

  /** Custom scopes registered in the tree (built-in namespaces refused: they are the management API's). */
  private async checkedScopes(principal: Principal, scopes: string[]): Promise<string[]> {
    const errors: FieldError[] = scopes
      .filter((scope) => RESERVED_SCOPE_NAMESPACES.includes(scope.split(':')[0]))
      .map((scope) => ({
        field: 'scopes',
        message: `${scope} is a management API scope; a resource server accepts custom scopes of the tree`,
      }));
    if (errors.length > 0) throw new ValidationProblem('A scope is reserved for the management API', errors);
    await this.scopeRegistry.assertRegistered(principal.rootAgentId, scopes, 'scopes');
    return normalize(scopes);
  }

  /** An agent of the caller's subtree (else 404, as for an unknown id), or null. */
  private async checkedAgent(
    principal: Principal,
    agentId: string | null | undefined,
  ): Promise<string | null> {
    if (agentId === undefined || agentId === null) return null;
    return (await this.agents.findVisible(principal, agentId)).id;
  }

  private checkedTtl(ttl: number | null | undefined): number | null {
    if (ttl === undefined || ttl === null) return null;
    const max = this.config.accessTokenExpireMinutes * 60;
    if (ttl > max) {
      throw new ValidationProblem('The access token lifetime is too long', [
        {
          field: 'access_token_ttl_seconds',
          message: `must be at most ${max} (ACCESS_TOKEN_EXPIRE_MINUTES × 60)`,
        },
      ]);
    }
    return ttl;
  }
}

import { randomUUID } from 'node:crypto';
import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  Clock,
  ConflictProblem,
  decodeCursor,
  DEFAULT_PAGE_SIZE,
  InvalidationBus,
  type Page,
  pgErrorCode,
  PG_UNIQUE_VIOLATION,
  type Principal,
  toPage,
  ValidationProblem,
} from '@agentauth/core';
import { BUILT_IN_SCOPES, covers, isWildcard } from '@agentauth/scopes';
import type { CreateScopeDto } from './dto/create-scope.dto';
import type { ListScopesQuery } from './dto/list-scopes.query';
import { type ScopeResponse, scopeView } from './dto/scope.response';
import { Scope } from './scope.entity';
import { ScopeRegistrationHooks } from './scope-registration.hooks';
import { ScopesRepository } from './scopes.repository';
import { UnknownScopeProblem } from './unknown-scope.problem';

/** Custom scopes one tree may register (its root holds them all, with the built-ins: docs/policies.md). */
export const MAX_CUSTOM_SCOPES_PER_TREE = 500;
/** Trees whose custom scope names a process keeps in memory (least recently used ones are dropped). */
export const SCOPE_CACHE_MAX_TREES = 10_000;
/** Invalidation channel; the payload is the root agent id of the tree that changed. */
export const SCOPES_CHANGED_CHANNEL = 'scopes:changed';

/**
 * First segments reserved for the built-in scopes: a custom scope may not live in them (`agents:admin`), so
 * it can never shadow, widen or be confused with a management scope.
 */
export const RESERVED_SCOPE_NAMESPACES: readonly string[] = [
  ...new Set(BUILT_IN_SCOPES.map((s) => s.split(':')[0])),
];

interface KnownScopes {
  global: ReadonlySet<string>;
  tree: ReadonlySet<string>;
}

/**
 * Is `scope` registered? A concrete name must be registered itself. A wildcard (`files:*`) is valid when it
 * is registered itself or when it covers at least one registered scope (`files:read`): it then stands for
 * exactly the registered scopes below it, now and later (docs/policies.md "Registered scopes").
 */
export function isRegisteredIn(scope: string, known: KnownScopes): boolean {
  if (known.global.has(scope) || known.tree.has(scope)) return true;
  if (!isWildcard(scope)) return false;
  for (const set of [known.global, known.tree]) for (const name of set) if (covers(scope, name)) return true;
  return false;
}

/**
 * The scope registry (CONTRACT §6): built-in scopes (global) and custom scopes per root tree, and THE check
 * that every scope written anywhere is registered (`assertRegistered`).
 *
 * Caching: the global names and each tree's custom names are kept in memory (LRU-bounded). Registrations
 * are append-only, so a cached "registered" is always right; a name the cache does not know is re-read from
 * PostgreSQL once before it is refused, so a process that missed an invalidation message never refuses a
 * scope registered elsewhere. Registrations are also announced on `scopes:changed` (InvalidationBus).
 */
@Injectable()
export class ScopeRegistry implements OnModuleInit, OnModuleDestroy {
  private global: ReadonlySet<string> | null = null;
  private readonly trees = new Map<string, Set<string>>();
  private unsubscribe?: () => void;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly repository: ScopesRepository,
    private readonly hooks: ScopeRegistrationHooks,
    private readonly bus: InvalidationBus,
    private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    this.unsubscribe = this.bus.subscribe(SCOPES_CHANGED_CHANNEL, {
      onMessage: (rootAgentId) => {
        this.trees.delete(rootAgentId);
      },
      onResync: () => this.forget(),
    });
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }

  /** Drops every cached name (the next check reloads). */
  forget(): void {
    this.global = null;
    this.trees.clear();
  }

  /**
   * Refuses (400 `unknown_scope`, listing them) the scopes of `scopes` not registered for the tree
   * `rootAgentId` (null: a tree that does not exist yet, so only the global scopes count). `field` names the
   * request field in the problem's `errors`. Call it before opening a transaction: a cache miss reads
   * PostgreSQL on its own connection.
   */
  async assertRegistered(
    rootAgentId: string | null,
    scopes: readonly string[],
    field?: string,
  ): Promise<void> {
    const unknown = await this.unregistered(rootAgentId, scopes);
    if (unknown.length > 0) throw new UnknownScopeProblem(unknown, field);
  }

  /** The descriptions of scopes visible to the tree (e.g. for a consent page), by name; unknown names absent. */
  async descriptions(rootAgentId: string, names: readonly string[]): Promise<Map<string, string | null>> {
    return names.length === 0 ? new Map() : this.repository.descriptions(rootAgentId, names);
  }

  /** The scopes of `scopes` not registered for the tree (see `assertRegistered`), in input order. */
  async unregistered(rootAgentId: string | null, scopes: readonly string[]): Promise<string[]> {
    if (scopes.length === 0) return [];
    const root = rootAgentId?.toLowerCase() ?? null;
    let known = await this.known(root, false);
    if (scopes.every((s) => isRegisteredIn(s, known))) return [];
    known = await this.known(root, true);
    return [...new Set(scopes.filter((s) => !isRegisteredIn(s, known)))];
  }

  /**
   * `scopes` with every wildcard replaced by the concrete registered names it covers (global and the
   * tree's), wildcard names themselves dropped: what a resource-bound token carries (CONTRACT §8 "concrete
   * scope names only"), so a resource server's exact-match checks work. Sorted, de-duplicated.
   */
  async expand(rootAgentId: string, scopes: readonly string[]): Promise<string[]> {
    if (!scopes.some(isWildcard)) return [...new Set(scopes)].sort();
    const known = await this.known(rootAgentId.toLowerCase(), false);
    const names = [...known.global, ...known.tree].filter((name) => !isWildcard(name));
    const out = new Set<string>();
    for (const scope of scopes) {
      if (!isWildcard(scope)) out.add(scope);
      else for (const name of names) if (covers(scope, name)) out.add(name);
    }
    return [...out].sort();
  }

  /** `POST /scopes`: a custom scope for the caller's tree. 409 when the tree (or the built-ins) has it. */
  async register(principal: Principal, dto: CreateScopeDto): Promise<Scope> {
    const name = dto.name;
    if ((BUILT_IN_SCOPES as readonly string[]).includes(name)) {
      throw new ConflictProblem(`The scope ${name} is already registered (built-in)`, 'scope_exists');
    }
    const namespace = name.split(':')[0];
    if (RESERVED_SCOPE_NAMESPACES.includes(namespace)) {
      throw new ValidationProblem(`The namespace ${namespace} is reserved for built-in scopes`, [
        { field: 'name', message: `the namespace ${namespace}: is reserved for built-in scopes` },
      ]);
    }
    const rootAgentId = principal.rootAgentId;
    const now = this.clock.now();
    const scope = Object.assign(new Scope(), {
      id: randomUUID(),
      rootAgentId,
      name,
      description: dto.description ?? null,
      createdBy: principal.subjectAgentId,
      createdAt: now,
    } satisfies Scope);
    try {
      await this.dataSource.transaction(async (manager) => {
        await this.repository.lockTree(manager, rootAgentId);
        if ((await this.repository.countInTree(manager, rootAgentId)) >= MAX_CUSTOM_SCOPES_PER_TREE) {
          throw new ConflictProblem(
            `A tree registers at most ${MAX_CUSTOM_SCOPES_PER_TREE} custom scopes (a wildcard such as files:* covers a family)`,
            'scope_limit_reached',
          );
        }
        await this.repository.insert(manager, scope);
        await this.hooks.scopeRegistered(manager, { rootAgentId, scope: name, at: now });
      });
    } catch (error) {
      if (pgErrorCode(error) === PG_UNIQUE_VIOLATION) {
        throw new ConflictProblem(`The scope ${name} is already registered in this tree`, 'scope_exists');
      }
      throw error;
    }
    this.trees.get(rootAgentId)?.add(name);
    await this.bus.publish(SCOPES_CHANGED_CHANNEL, rootAgentId);
    return scope;
  }

  /** `GET /scopes`: the built-ins and the caller's tree's custom scopes, keyset-paginated. */
  async list(principal: Principal, query: ListScopesQuery): Promise<Page<ScopeResponse>> {
    const after = query.cursor !== undefined ? decodeCursor(query.cursor) : undefined;
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const rows = await this.repository.listVisible(principal.rootAgentId, after, limit);
    return toPage(rows, limit, scopeView);
  }

  private async known(rootAgentId: string | null, fresh: boolean): Promise<KnownScopes> {
    if (fresh || !this.global) this.global = new Set(await this.repository.globalNames());
    const global = this.global;
    if (rootAgentId === null) return { global, tree: new Set() };
    let tree = fresh ? undefined : this.trees.get(rootAgentId);
    if (tree) {
      // Least recently used order: a hit moves the tree to the end.
      this.trees.delete(rootAgentId);
      this.trees.set(rootAgentId, tree);
    } else {
      tree = new Set(await this.repository.treeNames(rootAgentId));
      this.trees.delete(rootAgentId);
      this.trees.set(rootAgentId, tree);
      while (this.trees.size > SCOPE_CACHE_MAX_TREES) {
        const oldest = this.trees.keys().next().value;
        if (oldest === undefined) break;
        this.trees.delete(oldest);
      }
    }
    return { global, tree };
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { type Agent, AgentsService, type BootstrapAgentDto } from '@agentauth/agents';
import { APP_CONFIG, type AppConfig, constantTimeEqual, ForbiddenProblem } from '@agentauth/core';
import { ScopeRegistry } from '@agentauth/scope-registry';
import type { Credential } from '../credential.entity';
import { CredentialsService } from '../credentials.service';

export interface BootstrapGateHeaders {
  bootstrapToken?: string;
  adminKey?: string;
}

export interface BootstrapResult {
  agent: Agent;
  credential: Credential;
  /** Null for a secretless root (bootstrapped with a `jwk`). */
  apiKey: string | null;
}

/**
 * `POST /agents/bootstrap`: a new root agent and its first key, in one transaction. Lives with the
 * credentials because it needs both contexts (AgentsModule must not depend on CredentialsModule).
 */
@Injectable()
export class BootstrapService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly agents: AgentsService,
    private readonly credentials: CredentialsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly scopes: ScopeRegistry,
  ) {}

  /**
   * Open when the request carries the right `X-Bootstrap-Token` (BOOTSTRAP_TOKEN) or `X-Admin-Key`
   * (ADMIN_API_KEY), both compared in constant time; otherwise only when BOOTSTRAP_OPEN (the default
   * outside production) and no BOOTSTRAP_TOKEN is configured.
   */
  assertOpen(headers: BootstrapGateHeaders): void {
    const { bootstrapToken, adminApiKey, bootstrapOpen } = this.config;
    if (
      bootstrapToken &&
      headers.bootstrapToken !== undefined &&
      constantTimeEqual(headers.bootstrapToken, bootstrapToken)
    )
      return;
    if (headers.adminKey !== undefined && constantTimeEqual(headers.adminKey, adminApiKey)) return;
    if (bootstrapOpen && !bootstrapToken) return;
    throw new ForbiddenProblem(
      'Bootstrap is closed here: it needs a valid X-Bootstrap-Token (or BOOTSTRAP_OPEN=true)',
      'bootstrap_closed',
    );
  }

  /**
   * A root agent and its first credential: an API key, or — with `jwk` — a public key (a secretless root: it
   * authenticates with private_key_jwt from the start and no secret ever leaves the server).
   */
  async bootstrap(dto: BootstrapAgentDto): Promise<BootstrapResult> {
    const key = dto.jwk !== undefined ? await this.credentials.parseKeySpec({ jwk: dto.jwk }) : null;
    // The tree does not exist yet: only the global (built-in) scopes are registered for it.
    if (dto.allowed_scopes) await this.scopes.assertRegistered(null, dto.allowed_scopes, 'allowed_scopes');
    const material = key ? { key } : { prepared: await this.credentials.prepareSecret() };
    return this.dataSource.transaction(async (manager) => {
      const agent = await this.agents.createRoot(manager, {
        name: dto.name,
        description: dto.description,
        version: dto.version,
        capabilities: dto.capabilities,
        metadata: dto.metadata,
        allowedScopes: dto.allowed_scopes,
        requireDpop: dto.require_dpop,
      });
      const { credential, apiKey } = await this.credentials.issueCredential(
        manager,
        agent,
        { name: 'bootstrap', scopes: agent.allowedScopes, expiresAt: null },
        material,
      );
      return { agent, credential, apiKey };
    });
  }
}

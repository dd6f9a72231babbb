import { Injectable, type OnModuleInit, type Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { AgentCascadeRegistry } from '@agentauth/agents';
import { assertRegistrations, providedInstance } from '@agentauth/core';
import { CredentialLifecycleRegistry } from '@agentauth/credentials';
import { DelegationRevocationRegistry } from '@agentauth/delegations';
import { cascadeChecks, jobWiringChecks } from '@agentauth/job-processors';
import { JobHandlers, MaintenanceTasks } from '@agentauth/jobs';
import { ResourceServerDeletionRegistry } from '@agentauth/resource-servers';
import { ScopeRegistrationHooks } from '@agentauth/scope-registry';

/** Hooks only the API needs (only it deletes resource servers and registers scopes). */
const API_ONLY_HOOKS = {
  ResourceServerDeletionRegistry: ['tokens'],
  ScopeRegistrationHooks: ['agents'],
} as const;

/**
 * The API's wiring, checked at start-up: every cascade hook (those of `REQUIRED_CASCADE_HOOKS` plus the
 * API's own) and every job processor and maintenance task (the embedded mode runs the jobs in this
 * process). A provider of the root module, so its `onModuleInit` runs after every imported module
 * registered its hooks (Nest initializes the deepest modules first) and before any
 * `onApplicationBootstrap`. Missing → the API refuses to start, naming each missing entry.
 */
@Injectable()
export class ApiWiringCheck implements OnModuleInit {
  constructor(private readonly moduleRef: ModuleRef) {}

  onModuleInit(): void {
    const registered = (type: Type<{ registered(): string[] }>) =>
      providedInstance(this.moduleRef, type)?.registered();
    assertRegistrations('agentauth-api', [
      ...cascadeChecks({
        AgentCascadeRegistry: registered(AgentCascadeRegistry),
        DelegationRevocationRegistry: registered(DelegationRevocationRegistry),
        CredentialLifecycleRegistry: registered(CredentialLifecycleRegistry),
      }),
      {
        registry: 'ResourceServerDeletionRegistry',
        required: API_ONLY_HOOKS.ResourceServerDeletionRegistry,
        registered: registered(ResourceServerDeletionRegistry),
      },
      {
        registry: 'ScopeRegistrationHooks',
        required: API_ONLY_HOOKS.ScopeRegistrationHooks,
        registered: registered(ScopeRegistrationHooks),
      },
      ...jobWiringChecks(
        providedInstance(this.moduleRef, JobHandlers),
        providedInstance(this.moduleRef, MaintenanceTasks),
      ),
    ]);
  }
}

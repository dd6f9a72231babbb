import { Injectable, type OnModuleInit, type Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { AgentCascadeRegistry } from '@agentauth/agents';
import { assertRegistrations, providedInstance } from '@agentauth/core';
import { CredentialLifecycleRegistry } from '@agentauth/credentials';
import { DelegationRevocationRegistry } from '@agentauth/delegations';
import { cascadeChecks, jobWiringChecks } from '@agentauth/job-processors';
import { JobHandlers, MaintenanceTasks } from '@agentauth/jobs';

/**
 * The worker's wiring, checked before it consumes anything: every cascade hook an agent expiry needs and
 * every job processor and maintenance task. A provider of the root module, so its `onModuleInit` runs after
 * every imported module registered its hooks (Nest initializes the deepest modules first) and before any
 * `onApplicationBootstrap` (the queue consumers and schedules start there). Missing → the worker refuses to
 * start, naming each missing entry (`KEY_ROTATION_TASK` is a required dependency: Nest names it itself).
 */
@Injectable()
export class WorkerWiringCheck implements OnModuleInit {
  constructor(private readonly moduleRef: ModuleRef) {}

  onModuleInit(): void {
    const registered = (type: Type<{ registered(): string[] }>) =>
      providedInstance(this.moduleRef, type)?.registered();
    assertRegistrations('agentauth-worker', [
      ...cascadeChecks({
        AgentCascadeRegistry: registered(AgentCascadeRegistry),
        DelegationRevocationRegistry: registered(DelegationRevocationRegistry),
        CredentialLifecycleRegistry: registered(CredentialLifecycleRegistry),
      }),
      ...jobWiringChecks(
        providedInstance(this.moduleRef, JobHandlers),
        providedInstance(this.moduleRef, MaintenanceTasks),
      ),
    ]);
  }
}

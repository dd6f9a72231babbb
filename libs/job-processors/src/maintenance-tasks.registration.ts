import { Injectable, OnModuleInit } from '@nestjs/common';
import { AgentsService } from '@agentauth/agents';
import { RefreshFamiliesRetention } from '@agentauth/auth';
import { CredentialExpiry } from '@agentauth/credentials';
import { MaintenanceTasks } from '@agentauth/jobs';
import { RevocationService } from '@agentauth/revocation';

/** The maintenance tasks this registration provides, in run order (the apps' boot check requires each). */
export const MAINTENANCE_TASK_NAMES = {
  agentsExpireDue: 'agents.expire-due',
  credentialsMarkExpired: 'credentials.mark-expired',
  refreshTokensPurgeExpired: 'refresh-tokens.purge-expired',
  revocationPurgeExpired: 'revocation.purge-expired',
} as const;

/**
 * Registers the libs' idempotent maintenance tasks with the `maintenance` queue. Wiring only: each task is
 * one call of the owning service. Agents expire first: their cascade revokes their keys, so the keys that
 * expired with them end `revoked`, not merely `expired`.
 */
@Injectable()
export class MaintenanceTasksRegistration implements OnModuleInit {
  constructor(
    private readonly tasks: MaintenanceTasks,
    private readonly agents: AgentsService,
    private readonly credentials: CredentialExpiry,
    private readonly refreshFamilies: RefreshFamiliesRetention,
    private readonly revocation: RevocationService,
  ) {}

  onModuleInit(): void {
    this.tasks.register({ name: MAINTENANCE_TASK_NAMES.agentsExpireDue, run: () => this.agents.expireDue() });
    this.tasks.register({
      name: MAINTENANCE_TASK_NAMES.credentialsMarkExpired,
      run: () => this.credentials.markExpired(),
    });
    this.tasks.register({
      name: MAINTENANCE_TASK_NAMES.refreshTokensPurgeExpired,
      run: () => this.refreshFamilies.purgeExpired(),
    });
    this.tasks.register({
      name: MAINTENANCE_TASK_NAMES.revocationPurgeExpired,
      run: async () => ({ purged: await this.revocation.purgeExpired() }),
    });
  }
}

import { Injectable, OnModuleInit } from '@nestjs/common';
import { AgentsService } from '@agentauth/agents';
import { RefreshFamiliesRetention } from '@agentauth/auth';
import { CredentialExpiry } from '@agentauth/credentials';
import { MaintenanceTasks } from '@agentauth/jobs';
import { RevocationService } from '@agentauth/revocation';

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
    this.tasks.register({ name: 'agents.expire-due', run: () => this.agents.expireDue() });
    this.tasks.register({ name: 'credentials.mark-expired', run: () => this.credentials.markExpired() });
    this.tasks.register({
      name: 'refresh-tokens.purge-expired',
      run: () => this.refreshFamilies.purgeExpired(),
    });
    this.tasks.register({
      name: 'revocation.purge-expired',
      run: async () => ({ purged: await this.revocation.purgeExpired() }),
    });
  }
}

import { Injectable, OnModuleInit } from '@nestjs/common';
import { AgentsService } from '@agentauth/agents';
import { MaintenanceTasks } from '@agentauth/jobs';
import { RevocationService } from '@agentauth/revocation';

/**
 * Registers the libs' idempotent maintenance tasks with the `maintenance` queue. Wiring only: each task is
 * one call of the owning service.
 */
@Injectable()
export class MaintenanceTasksRegistration implements OnModuleInit {
  constructor(
    private readonly tasks: MaintenanceTasks,
    private readonly agents: AgentsService,
    private readonly revocation: RevocationService,
  ) {}

  onModuleInit(): void {
    this.tasks.register({ name: 'agents.expire-due', run: () => this.agents.expireDue() });
    this.tasks.register({
      name: 'revocation.purge-expired',
      run: async () => ({ purged: await this.revocation.purgeExpired() }),
    });
  }
}

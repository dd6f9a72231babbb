import { Module } from '@nestjs/common';
import { AgentsModule } from '@agentauth/agents';
import { AuditModule } from '@agentauth/audit';
import { RefreshStoreModule } from '@agentauth/auth';
import { CredentialsModule } from '@agentauth/credentials';
import { JobsModule } from '@agentauth/jobs';
import { KeysModule } from '@agentauth/keys';
import { RevocationModule } from '@agentauth/revocation';
import { WebhooksModule } from '@agentauth/webhooks';
import { KeyRotationProcessor } from './key-rotation.processor';
import { MaintenanceProcessor } from './maintenance.processor';
import { MaintenanceTasksRegistration } from './maintenance-tasks.registration';
import { WebhooksProcessor } from './webhooks.processor';

/**
 * Which service runs which job: registers the `key-rotation`, `maintenance` and `webhooks` handlers (and
 * the libs' maintenance tasks) with `JobHandlers`. Imported by the worker (BullMQ consumes through them) and
 * by the API (in the embedded mode its in-process producer runs them; with Redis they stay unused there).
 * Routing only: every handler is one call of the owning lib's service.
 */
@Module({
  imports: [
    AuditModule,
    JobsModule,
    WebhooksModule,
    KeysModule,
    RevocationModule,
    AgentsModule,
    // Registers its cascade hook: expiring an agent revokes its credentials.
    CredentialsModule,
    RefreshStoreModule,
  ],
  providers: [KeyRotationProcessor, MaintenanceProcessor, WebhooksProcessor, MaintenanceTasksRegistration],
})
export class JobProcessorsModule {}

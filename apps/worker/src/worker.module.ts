import { Module } from '@nestjs/common';
import { AuditModule } from '@agentauth/audit';
import { CoreModule } from '@agentauth/core';
import { JobsModule, JobsWorkerModule } from '@agentauth/jobs';
import { WebhooksModule } from '@agentauth/webhooks';
import { KeyRotationProcessor } from './processors/key-rotation.processor';
import { MaintenanceProcessor } from './processors/maintenance.processor';
import { WebhooksProcessor } from './processors/webhooks.processor';
import { LogFlushOnShutdown } from './log-flush';
import { WorkerHeartbeat } from './worker-heartbeat';

/**
 * The worker process: consumes the `key-rotation`, `maintenance` and `webhooks` queues and registers the
 * schedules. The processors only route jobs to the libs' services. A lib with maintenance work registers
 * its task with `MaintenanceTasks`; the signing-keys module provides `KEY_ROTATION_TASK` — import those
 * modules here.
 */
@Module({
  imports: [
    CoreModule.forRoot({ serviceName: 'agentauth-worker' }),
    AuditModule,
    JobsModule,
    JobsWorkerModule,
    WebhooksModule,
  ],
  providers: [
    WorkerHeartbeat,
    LogFlushOnShutdown,
    KeyRotationProcessor,
    MaintenanceProcessor,
    WebhooksProcessor,
  ],
})
export class WorkerModule {}

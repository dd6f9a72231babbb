import { Module } from '@nestjs/common';
import { AgentsModule } from '@agentauth/agents';
import { AuditModule } from '@agentauth/audit';
import { TokenCascadesModule } from '@agentauth/auth';
import { CoreModule } from '@agentauth/core';
import { CredentialsModule } from '@agentauth/credentials';
import { DelegationsModule } from '@agentauth/delegations';
import { JobsModule, JobsWorkerModule } from '@agentauth/jobs';
import { KeysModule } from '@agentauth/keys';
import { MetricsModule } from '@agentauth/observability';
import { RevocationModule } from '@agentauth/revocation';
import { WebhooksModule } from '@agentauth/webhooks';
import { JobProcessorsModule } from '@agentauth/job-processors';
import { LogFlushOnShutdown } from './log-flush';
import { WorkerHeartbeat } from './worker-heartbeat';

/**
 * The worker process: consumes the `key-rotation`, `maintenance` and `webhooks` queues and registers the
 * schedules. The processors (`@agentauth/job-processors`) only route jobs to the libs' services. A lib with maintenance work registers
 * its task with `MaintenanceTasks`; the signing-keys module provides `KEY_ROTATION_TASK` — import those
 * modules here.
 */
@Module({
  imports: [
    CoreModule.forRoot({ serviceName: 'agentauth-worker' }),
    // Services shared with the API inject Metrics; the worker has no /metrics endpoint to expose them.
    MetricsModule,
    AuditModule,
    JobsModule,
    JobsWorkerModule,
    WebhooksModule,
    KeysModule,
    RevocationModule,
    AgentsModule,
    // Register their cascade hooks, so an expiry here is the usual cascade (as in the API process):
    // credentials revoked, delegations revoked, and the token part (revocation markers for the agents and
    // their credentials, refresh families revoked).
    CredentialsModule,
    DelegationsModule,
    TokenCascadesModule,
    // The handlers of every queue (shared with the API's in-process jobs of the embedded mode).
    JobProcessorsModule,
  ],
  providers: [WorkerHeartbeat, LogFlushOnShutdown],
})
export class WorkerModule {}

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
import { WorkerWiringCheck } from './boot-wiring.check';
import { LogFlushOnShutdown } from './log-flush';
import { WorkerHeartbeat } from './worker-heartbeat';

/**
 * The worker process: consumes the `key-rotation`, `maintenance` and `webhooks` queues and registers the
 * schedules. The processors (`@agentauth/job-processors`) only route jobs to the libs' services.
 *
 * Wiring is declared, then checked: `REQUIRED_CASCADE_HOOKS`, `REQUIRED_JOB_HANDLERS` and
 * `REQUIRED_MAINTENANCE_TASKS` (libs/job-processors/src/required-wiring.ts) say what this process needs;
 * each module below provides some of it; `WorkerWiringCheck` refuses to start, naming what is missing, if
 * a module is dropped. `KEY_ROTATION_TASK` (KeysModule) is a required dependency of the key-rotation
 * processor: without it Nest refuses to start and names it.
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
    // KEY_ROTATION_TASK.
    KeysModule,
    RevocationModule,
    AgentsModule,
    // The cascade hooks an agent expiry needs here, as in the API (REQUIRED_CASCADE_HOOKS):
    // AgentCascadeRegistry "credentials" (keys revoked),
    CredentialsModule,
    // AgentCascadeRegistry "delegations" (delegations revoked),
    DelegationsModule,
    // AgentCascadeRegistry, DelegationRevocationRegistry and CredentialLifecycleRegistry "tokens"
    // (revocation markers, refresh families revoked).
    TokenCascadesModule,
    // The handlers of every queue and the maintenance tasks (REQUIRED_JOB_HANDLERS, REQUIRED_MAINTENANCE_TASKS;
    // shared with the API's in-process jobs of the embedded mode).
    JobProcessorsModule,
  ],
  providers: [WorkerHeartbeat, LogFlushOnShutdown, WorkerWiringCheck],
})
export class WorkerModule {}

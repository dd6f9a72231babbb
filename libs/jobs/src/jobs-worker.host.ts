import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import { PinoLogger } from 'nestjs-pino';
import { APP_CONFIG, type AppConfig } from '@agentauth/core';
import { bullConnection, bullPrefix } from './bull-connection';
import { JobHandlers } from './job-handlers';
import { QUEUE_CONCURRENCY, type QueueName } from './jobs.constants';

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs one BullMQ worker per queue that has handlers (worker process only).
 *
 * - Jobs are dispatched by name to the handler registered in `JobHandlers`; an unknown name fails the job
 *   without retries (it stays in the failed set for inspection).
 * - Graceful shutdown: `onModuleDestroy` (the first shutdown hook, before the database and Redis close)
 *   waits for running jobs to finish (`worker.close()`), so SIGTERM never cuts a job in half.
 * - SIGKILL: the job's lock (`WORKER_LOCK_DURATION_MS`) is no longer renewed; another (or the restarted)
 *   worker's stalled check (`WORKER_STALLED_INTERVAL_MS`) puts it back in the queue.
 */
@Injectable()
export class JobsWorkerHost implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly workers: Worker[] = [];

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly handlers: JobHandlers,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('JobsWorkerHost');
  }

  async onApplicationBootstrap(): Promise<void> {
    for (const queue of this.handlers.queues()) {
      const worker = new Worker(queue, (job) => this.process(queue, job), {
        connection: bullConnection(this.config),
        prefix: bullPrefix(this.config),
        concurrency: QUEUE_CONCURRENCY[queue],
        lockDuration: this.config.workerLockDurationMs,
        stalledInterval: this.config.workerStalledIntervalMs,
        maxStalledCount: 2,
        autorun: true,
      });
      this.observe(queue, worker);
      this.workers.push(worker);
    }
    await Promise.all(this.workers.map((w) => w.waitUntilReady()));
    this.logger.info(
      { queues: this.handlers.queues().map((q) => ({ queue: q, jobs: this.handlers.jobNames(q) })) },
      'consuming queues',
    );
  }

  async onModuleDestroy(): Promise<void> {
    if (this.workers.length === 0) return;
    this.logger.info('stopping: waiting for running jobs to finish');
    await Promise.all(this.workers.map((w) => w.close()));
    this.workers.length = 0;
    this.logger.info('all queue workers stopped');
  }

  private async process(queue: QueueName, job: Job): Promise<unknown> {
    const handler = this.handlers.handlerFor(queue, job.name);
    if (!handler) throw new UnrecoverableError(`no handler for ${queue}/${job.name}`);
    this.logger.debug(
      { queue, job_id: job.id, job_name: job.name, attempt: job.attemptsMade + 1 },
      'job started',
    );
    return handler(job);
  }

  private observe(queue: QueueName, worker: Worker): void {
    worker.on('completed', (job: Job) => {
      this.logger.info(
        {
          queue,
          job_id: job.id,
          job_name: job.name,
          attempt: job.attemptsMade,
          duration_ms: job.finishedOn && job.processedOn ? job.finishedOn - job.processedOn : undefined,
        },
        'job completed',
      );
    });
    worker.on('failed', (job: Job | undefined, error: Error) => {
      const attempts = job?.opts.attempts ?? 1;
      const final = !job || job.attemptsMade >= attempts || error instanceof UnrecoverableError;
      this.logger[final ? 'error' : 'warn'](
        {
          queue,
          job_id: job?.id,
          job_name: job?.name,
          attempt: job?.attemptsMade,
          max_attempts: attempts,
          will_retry: !final,
          error: error.message,
        },
        final ? 'job failed' : 'job attempt failed',
      );
    });
    worker.on('stalled', (jobId: string) => {
      this.logger.warn({ queue, job_id: jobId }, 'stalled job put back in the queue');
    });
    let lastError = '';
    worker.on('error', (error: unknown) => {
      const message = messageOf(error);
      if (message !== lastError) this.logger.error({ queue, error: message }, 'queue worker error');
      lastError = message;
    });
  }
}

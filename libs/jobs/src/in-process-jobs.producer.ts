import { Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { type Job, type JobsOptions, type Queue, UnrecoverableError } from 'bullmq';
import type { Logger } from 'pino';
import type { AppConfig } from '@agentauth/core';
import { JobHandlers } from './job-handlers';
import { DAY_MS, SCHEDULED_JOB_OPTIONS } from './job-schedules';
import { JobsProducer } from './jobs.producer';
import {
  DEFAULT_JOB_OPTIONS,
  KEY_ROTATION_JOBS,
  MAINTENANCE_JOBS,
  QUEUES,
  type QueueName,
} from './jobs.constants';

/** setTimeout's longest delay (~24.8 days); longer periods (KEY_ROTATION_DAYS) are waited in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Ids of finished jobs remembered so a re-added `jobId` is not run twice (BullMQ keeps ~1000 per queue). */
const FINISHED_IDS_KEPT = 5000;

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

interface InProcessJob {
  queue: QueueName;
  id: string;
  name: string;
  data: object;
  opts: JobsOptions;
  attemptsMade: number;
  /** The schedule that produced it: a tick is skipped while the previous one is still unfinished. */
  schedulerId?: string;
}

/**
 * The embedded mode's jobs (REDIS_URL unset): no BullMQ, no worker process. `add` runs the job in this
 * process, soon after it returns, through the same `JobHandlers` registry the worker dispatches to, with
 * the same options (attempts, exponential/fixed backoff, `UnrecoverableError` = no retry, `jobId`
 * idempotence). The worker's schedules run on timers: `key-rotation/rotate` every KEY_ROTATION_DAYS,
 * `key-rotation/advance` and `maintenance/run` every MAINTENANCE_INTERVAL_SECONDS.
 *
 * Limits (docs/dev-mode.md): jobs live in memory — a job waiting for a retry when the process stops is not
 * resumed (webhook deliveries stay `pending`); one process runs everything.
 */
@Injectable()
export class InProcessJobsProducer extends JobsProducer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly active = new Map<string, InProcessJob>();
  private readonly finished = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private sequence = 0;
  private stopped = false;

  constructor(
    private readonly config: AppConfig,
    private readonly handlers: JobHandlers,
    private readonly logger: Logger,
  ) {
    super();
  }

  queue(name: QueueName): Queue {
    throw new Error(
      `no BullMQ queue "${name}" in the embedded mode (REDIS_URL unset): jobs run in-process, there is nothing to inspect`,
    );
  }

  /** Jobs live in this process's timers, not in a queue: nothing to report (docs/observability.md). */
  queueDepths(): Promise<Partial<Record<QueueName, number>>> {
    return Promise.resolve({});
  }

  add(queue: QueueName, name: string, data: object, opts: JobsOptions = {}): Promise<string> {
    if (this.stopped) return Promise.reject(new Error(`enqueue on ${queue}: the process is stopping`));
    const id = opts.jobId ?? `${++this.sequence}`;
    const key = `${queue}:${id}`;
    if (this.active.has(key) || this.finished.has(key)) return Promise.resolve(id);
    const job: InProcessJob = {
      queue,
      id,
      name,
      data,
      opts: { ...DEFAULT_JOB_OPTIONS, ...opts },
      attemptsMade: 0,
    };
    this.active.set(key, job);
    this.after(opts.delay ?? 0, () => this.attempt(key, job));
    return Promise.resolve(id);
  }

  onApplicationBootstrap(): void {
    const rotateEvery = this.config.keyRotationDays * DAY_MS;
    const maintenanceEvery = this.config.maintenanceIntervalSeconds * 1000;
    this.every('key-rotation-rotate', rotateEvery, QUEUES.keyRotation, KEY_ROTATION_JOBS.rotate);
    this.every('key-rotation-advance', maintenanceEvery, QUEUES.keyRotation, KEY_ROTATION_JOBS.advance);
    this.every('maintenance-run', maintenanceEvery, QUEUES.maintenance, MAINTENANCE_JOBS.run);
    this.logger.info(
      {
        component: 'in-process-jobs',
        key_rotation_every_ms: rotateEvery,
        maintenance_every_ms: maintenanceEvery,
        queues: this.handlers.queues().map((q) => ({ queue: q, jobs: this.handlers.jobNames(q) })),
      },
      'jobs run in-process (embedded mode): schedules started',
    );
  }

  /** Stops the schedules and retries, then waits for the running jobs (before the database closes). */
  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.running]);
  }

  private every(schedulerId: string, periodMs: number, queue: QueueName, name: string): void {
    const tick = () => {
      const previous = [...this.active.values()].some((job) => job.schedulerId === schedulerId);
      if (!previous) {
        const id = `repeat:${schedulerId}:${++this.sequence}`;
        const job: InProcessJob = {
          queue,
          id,
          name,
          data: {},
          opts: SCHEDULED_JOB_OPTIONS,
          attemptsMade: 0,
          schedulerId,
        };
        this.active.set(`${queue}:${id}`, job);
        void this.attempt(`${queue}:${id}`, job);
      }
      this.after(periodMs, tick);
    };
    this.after(periodMs, tick);
  }

  /** Runs `fn` after `ms` (in steps when longer than a timer allows); nothing once stopping. */
  private after(ms: number, fn: () => unknown): void {
    if (this.stopped) return;
    const step = Math.min(Math.max(0, ms), MAX_TIMER_MS);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (ms > step) this.after(ms - step, fn);
      else void fn();
    }, step);
    timer.unref();
    this.timers.add(timer);
  }

  private attempt(key: string, job: InProcessJob): Promise<void> {
    if (this.stopped) return Promise.resolve();
    const run = this.runOnce(key, job).finally(() => this.running.delete(run));
    this.running.add(run);
    return run;
  }

  private async runOnce(key: string, job: InProcessJob): Promise<void> {
    const log = { component: 'in-process-jobs', queue: job.queue, job_id: job.id, job_name: job.name };
    const handler = this.handlers.handlerFor(job.queue, job.name);
    const started = process.hrtime.bigint();
    try {
      if (!handler) throw new UnrecoverableError(`no handler for ${job.queue}/${job.name}`);
      // The handlers read name, data, opts and attemptsMade: the part of BullMQ's Job they rely on.
      await handler(job as unknown as Job);
      job.attemptsMade += 1;
      this.finish(key);
      const durationMs = Number((process.hrtime.bigint() - started) / 1_000_000n);
      this.logger.info({ ...log, attempt: job.attemptsMade, duration_ms: durationMs }, 'job completed');
    } catch (error) {
      job.attemptsMade += 1;
      const attempts = job.opts.attempts ?? 1;
      const final = error instanceof UnrecoverableError || job.attemptsMade >= attempts || this.stopped;
      this.logger[final ? 'error' : 'warn'](
        {
          ...log,
          attempt: job.attemptsMade,
          max_attempts: attempts,
          will_retry: !final,
          error: messageOf(error),
        },
        final ? 'job failed' : 'job attempt failed',
      );
      if (final) this.finish(key);
      else this.after(this.backoffMs(job), () => this.attempt(key, job));
    }
  }

  /** BullMQ's backoff: exponential = delay × 2^(attempts made − 1), fixed = delay. */
  private backoffMs(job: InProcessJob): number {
    const backoff = job.opts.backoff;
    if (backoff === undefined) return 0;
    if (typeof backoff === 'number') return backoff;
    const delay = backoff.delay ?? 0;
    return backoff.type === 'exponential' ? delay * 2 ** (job.attemptsMade - 1) : delay;
  }

  private finish(key: string): void {
    this.active.delete(key);
    this.finished.add(key);
    if (this.finished.size > FINISHED_IDS_KEPT) {
      const oldest = this.finished.values().next().value as string;
      this.finished.delete(oldest);
    }
  }
}

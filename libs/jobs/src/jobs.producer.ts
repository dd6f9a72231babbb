import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { type JobsOptions, Queue } from 'bullmq';
import { PinoLogger } from 'nestjs-pino';
import { APP_CONFIG, type AppConfig } from '@agentauth/core';
import { bullConnection, bullPrefix } from './bull-connection';
import {
  DEFAULT_JOB_OPTIONS,
  KEY_ROTATION_JOBS,
  MAINTENANCE_JOBS,
  QUEUE_NAMES,
  QUEUES,
  type QueueName,
} from './jobs.constants';

/** An enqueue that Redis does not acknowledge within this time fails (the caller logs it and moves on). */
const ADD_TIMEOUT_MS = 5000;

/**
 * The one way to put work on a queue (the DI token every lib injects). Enqueueing is all a request ever
 * does: it never waits for a job to be processed before answering. Two implementations, chosen once at
 * start-up by `JobsModule`: BullMQ on Redis (`BullJobsProducer`, REDIS_URL set; a worker process consumes)
 * and the embedded mode's `InProcessJobsProducer` (REDIS_URL unset; this process runs the jobs on timers).
 */
export abstract class JobsProducer {
  /** The BullMQ queue, for inspection by operators and tests (BullMQ mode only). */
  abstract queue(name: QueueName): Queue;

  /**
   * Adds one job (the queue's default options, overridden by `opts`). A `jobId` makes it idempotent: a job
   * with that id that still exists is not added twice. Resolves with the job id once it is accepted.
   */
  abstract add(queue: QueueName, name: string, data: object, opts?: JobsOptions): Promise<string>;

  /**
   * Jobs waiting to run (waiting, prioritized or delayed — retries included) per queue, read when
   * Prometheus scrapes `/metrics` (`agentauth_queue_depth`). Empty where there is no queue to read.
   */
  abstract queueDepths(): Promise<Partial<Record<QueueName, number>>>;

  /** On-demand signing-key rotation (the same job the schedule produces). */
  rotateSigningKeysNow(): Promise<string> {
    return this.add(QUEUES.keyRotation, KEY_ROTATION_JOBS.rotate, {});
  }

  /** On-demand maintenance run (the same job the schedule produces). */
  runMaintenanceNow(): Promise<string> {
    return this.add(QUEUES.maintenance, MAINTENANCE_JOBS.run, {});
  }
}

/** BullMQ queues on Redis, opened on first use and closed at shutdown. */
@Injectable()
export class BullJobsProducer extends JobsProducer implements OnApplicationShutdown {
  private readonly queues = new Map<QueueName, Queue>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly logger: PinoLogger,
  ) {
    super();
    this.logger.setContext('JobsProducer');
  }

  /** The BullMQ queue (opened on first use): enqueueing, and inspection by operators and tests. */
  queue(name: QueueName): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, {
        connection: bullConnection(this.config),
        prefix: bullPrefix(this.config),
        defaultJobOptions: DEFAULT_JOB_OPTIONS,
      });
      let lastError = '';
      queue.on('error', (error: Error) => {
        if (error.message !== lastError)
          this.logger.warn({ queue: name, error: error.message }, 'queue connection error');
        lastError = error.message;
      });
      this.queues.set(name, queue);
    }
    return queue;
  }

  /** One counting script per queue (ZCARD/LLEN, no job is read): cheap enough for every scrape. */
  async queueDepths(): Promise<Partial<Record<QueueName, number>>> {
    const depths = await Promise.all(
      QUEUE_NAMES.map(
        async (name) =>
          [name, await this.queue(name).getJobCountByTypes('waiting', 'prioritized', 'delayed')] as const,
      ),
    );
    return Object.fromEntries(depths);
  }

  /** Resolves with the job id once Redis has it. */
  async add(queue: QueueName, name: string, data: object, opts: JobsOptions = {}): Promise<string> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`enqueue on ${queue} timed out`)), ADD_TIMEOUT_MS);
    });
    try {
      const job = await Promise.race([this.queue(queue).add(name, data, opts), timeout]);
      return job.id ?? '';
    } finally {
      clearTimeout(timer);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    const queues = [...this.queues.values()];
    this.queues.clear();
    await Promise.all(queues.map((q) => q.close().catch(() => undefined)));
  }
}

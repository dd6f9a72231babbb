import { Injectable } from '@nestjs/common';
import type { Job } from 'bullmq';
import type { QueueName } from './jobs.constants';

/** Processes one job; the resolved value is stored as the job's return value. Throw to fail the attempt. */
export type JobHandler = (job: Job) => Promise<unknown>;

/**
 * Which code processes which job: `register(queue, jobName, handler)`. Processors register in
 * `onModuleInit`; the worker host (only in the worker process) consumes the queues that have handlers.
 */
@Injectable()
export class JobHandlers {
  private readonly handlers = new Map<QueueName, Map<string, JobHandler>>();

  register(queue: QueueName, jobName: string, handler: JobHandler): void {
    const forQueue = this.handlers.get(queue) ?? new Map<string, JobHandler>();
    if (forQueue.has(jobName)) throw new Error(`a handler for ${queue}/${jobName} is already registered`);
    forQueue.set(jobName, handler);
    this.handlers.set(queue, forQueue);
  }

  handlerFor(queue: QueueName, jobName: string): JobHandler | undefined {
    return this.handlers.get(queue)?.get(jobName);
  }

  /** Queues with at least one handler. */
  queues(): QueueName[] {
    return [...this.handlers.keys()];
  }

  jobNames(queue: QueueName): string[] {
    return [...(this.handlers.get(queue)?.keys() ?? [])];
  }
}

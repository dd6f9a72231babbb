import type { JobsOptions } from 'bullmq';

/** The queues of AgentAuth. The API only enqueues; the worker process consumes. */
export const QUEUES = {
  keyRotation: 'key-rotation',
  maintenance: 'maintenance',
  webhooks: 'webhooks',
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

export const QUEUE_NAMES: readonly QueueName[] = Object.values(QUEUES);

/** Job names of the `key-rotation` queue. */
export const KEY_ROTATION_JOBS = { rotate: 'rotate', advance: 'advance' } as const;

/** Job names of the `maintenance` queue. */
export const MAINTENANCE_JOBS = { run: 'run' } as const;

/** Fixed job-scheduler ids: upserting them from every worker at start-up never duplicates a schedule. */
export const SCHEDULER_IDS = {
  keyRotation: 'key-rotation-rotate',
  keyAdvance: 'key-rotation-advance',
  maintenance: 'maintenance-run',
} as const;

/** How many jobs of each queue one worker process runs at a time. */
export const QUEUE_CONCURRENCY: Record<QueueName, number> = {
  'key-rotation': 1,
  maintenance: 1,
  webhooks: 10,
};

/**
 * Options every job gets unless it says otherwise: retried with exponential backoff, a bounded history of
 * completed jobs, and failed jobs kept for inspection (`docs/worker.md`).
 */
export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 10_000 },
  removeOnComplete: { count: 1000, age: 7 * 24 * 3600 },
  removeOnFail: false,
};

import {
  type JobHandlers,
  KEY_ROTATION_JOBS,
  MAINTENANCE_JOBS,
  type MaintenanceTasks,
  QUEUES,
  type QueueName,
} from '@agentauth/jobs';
import { WEBHOOK_JOBS, WebhookDeliveriesRetention } from '@agentauth/webhooks';
import { MAINTENANCE_TASK_NAMES } from './maintenance-tasks.registration';

/**
 * What a process running the jobs must have registered (the API runs them in the embedded mode, the worker
 * always): a handler for every job of every queue, and every maintenance task. The apps' boot checks
 * (`apps/api/src/boot-wiring.check.ts`, `apps/worker/src/boot-wiring.check.ts`) refuse to start without one.
 */
export const REQUIRED_JOB_HANDLERS: Record<QueueName, readonly string[]> = {
  [QUEUES.keyRotation]: Object.values(KEY_ROTATION_JOBS),
  [QUEUES.maintenance]: Object.values(MAINTENANCE_JOBS),
  [QUEUES.webhooks]: Object.values(WEBHOOK_JOBS),
};

export const REQUIRED_MAINTENANCE_TASKS: readonly string[] = [
  ...Object.values(MAINTENANCE_TASK_NAMES),
  WebhookDeliveriesRetention.taskName,
];

/**
 * The cascade hooks every process that changes agents needs (the API, and the worker, whose maintenance
 * run expires agents): deactivating an agent revokes its keys, its delegations and its tokens; revoking a
 * delegation or a key kills the tokens minted from it. Keyed by registry class name.
 */
export const REQUIRED_CASCADE_HOOKS = {
  AgentCascadeRegistry: ['credentials', 'delegations', 'tokens'],
  DelegationRevocationRegistry: ['tokens'],
  CredentialLifecycleRegistry: ['tokens'],
} as const satisfies Record<string, readonly string[]>;

/**
 * One entry of the boot check (structurally core's `RegistryCheck`, which the apps pass it to; this lib does
 * not import core).
 */
export interface RequiredRegistration {
  registry: string;
  required: readonly string[];
  registered: readonly string[] | undefined;
}

/** The cascade hook checks, from what each registry of `REQUIRED_CASCADE_HOOKS` has registered. */
export function cascadeChecks(
  registered: Record<keyof typeof REQUIRED_CASCADE_HOOKS, readonly string[] | undefined>,
): RequiredRegistration[] {
  return Object.entries(REQUIRED_CASCADE_HOOKS).map(([registry, required]) => ({
    registry,
    required,
    registered: registered[registry as keyof typeof REQUIRED_CASCADE_HOOKS],
  }));
}

/** The job checks, from the process's `JobHandlers` and `MaintenanceTasks` (undefined when not provided). */
export function jobWiringChecks(
  handlers: JobHandlers | undefined,
  tasks: MaintenanceTasks | undefined,
): RequiredRegistration[] {
  return [
    ...Object.entries(REQUIRED_JOB_HANDLERS).map(([queue, jobs]) => ({
      registry: `JobHandlers ${queue}`,
      required: jobs,
      registered: handlers?.jobNames(queue as QueueName),
    })),
    {
      registry: 'MaintenanceTasks',
      required: REQUIRED_MAINTENANCE_TASKS,
      registered: tasks?.list().map((task) => task.name),
    },
  ];
}

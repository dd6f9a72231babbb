import { Injectable } from '@nestjs/common';

/**
 * One idempotent housekeeping step run by the worker's `maintenance` job (expire ephemeral agents, mark
 * expired credentials, purge expired rows…). `run` returns counts for the log, e.g. `{ expired: 3 }`.
 * Running it twice, or concurrently with itself, must be harmless: the job is retried after failures and
 * re-run after a worker is killed mid-job.
 */
export interface MaintenanceTask {
  name: string;
  run(): Promise<Record<string, number>>;
}

export interface MaintenanceRunResult {
  results: Record<string, Record<string, number>>;
  failures: Record<string, string>;
}

export class MaintenanceTaskError extends Error {
  constructor(readonly outcome: MaintenanceRunResult) {
    super(
      `maintenance task(s) failed: ${Object.entries(outcome.failures)
        .map(([name, error]) => `${name}: ${error}`)
        .join('; ')}`,
    );
    this.name = 'MaintenanceTaskError';
  }
}

/** DI token of the registry (the same instance as the `MaintenanceTasks` class provider). */
export const MAINTENANCE_TASKS = Symbol('MAINTENANCE_TASKS');

/**
 * The registry of maintenance tasks. Modules register theirs in `onModuleInit`:
 * `constructor(tasks: MaintenanceTasks) {}  onModuleInit() { this.tasks.register({ name, run }) }`.
 */
@Injectable()
export class MaintenanceTasks {
  private readonly tasks = new Map<string, MaintenanceTask>();

  register(task: MaintenanceTask): void {
    if (this.tasks.has(task.name)) throw new Error(`maintenance task "${task.name}" is already registered`);
    this.tasks.set(task.name, task);
  }

  list(): MaintenanceTask[] {
    return [...this.tasks.values()];
  }

  /**
   * Runs every task once, in registration order. One failing task does not stop the others; if any
   * failed, the run throws `MaintenanceTaskError` afterwards so the job is retried (tasks are idempotent).
   */
  async runAll(): Promise<MaintenanceRunResult> {
    const outcome: MaintenanceRunResult = { results: {}, failures: {} };
    for (const task of this.tasks.values()) {
      try {
        outcome.results[task.name] = await task.run();
      } catch (error) {
        outcome.failures[task.name] = error instanceof Error ? error.message : String(error);
      }
    }
    if (Object.keys(outcome.failures).length > 0) throw new MaintenanceTaskError(outcome);
    return outcome;
  }
}

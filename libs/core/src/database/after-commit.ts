import { Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { PinoLogger } from 'nestjs-pino';
import type { DataSource, EntityManager, EntitySubscriberInterface, QueryRunner } from 'typeorm';

/** Work for after COMMIT; `committed` is the committing connection's manager, now outside any transaction. */
export type AfterCommitAction = (committed: EntityManager) => Promise<unknown>;

interface Pending {
  /** Transaction depth at which the work was scheduled: a savepoint's rollback drops only its own. */
  depth: number;
  action: AfterCommitAction;
}

function transactionDepth(queryRunner: QueryRunner): number {
  return (queryRunner as unknown as { transactionDepth?: number }).transactionDepth ?? 1;
}

/**
 * Runs work right after a transaction COMMITs — awaited before `dataSource.transaction()` resolves, so the
 * caller's response follows it — and never after a rollback; a savepoint's rollback drops what was scheduled
 * inside it. Outside a transaction the work runs at once.
 *
 * The work gets the committing connection (still held, no longer in a transaction) for its own queries:
 * asking the pool for a second one would deadlock a one-connection pool (the embedded mode's PGlite) and
 * costs a checkout anyway. Failures are logged, never thrown: the transaction is committed whatever happens.
 */
@Injectable()
export class AfterCommit implements OnModuleInit, OnApplicationShutdown {
  private readonly pending = new WeakMap<QueryRunner, Pending[]>();
  private readonly hook: EntitySubscriberInterface = {
    afterTransactionCommit: (event) => this.committed(event.queryRunner),
    afterTransactionRollback: (event) => this.rolledBack(event.queryRunner),
  };

  constructor(
    @InjectDataSource() private readonly dataSource: Pick<DataSource, 'subscribers'>,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('AfterCommit');
  }

  onModuleInit(): void {
    this.dataSource.subscribers.push(this.hook);
  }

  onApplicationShutdown(): void {
    const index = this.dataSource.subscribers.indexOf(this.hook);
    if (index >= 0) this.dataSource.subscribers.splice(index, 1);
  }

  async schedule(manager: EntityManager, action: AfterCommitAction): Promise<void> {
    const queryRunner = manager.queryRunner;
    if (!queryRunner?.isTransactionActive) {
      await this.run([action], manager);
      return;
    }
    const list = this.pending.get(queryRunner) ?? [];
    list.push({ depth: transactionDepth(queryRunner), action });
    this.pending.set(queryRunner, list);
  }

  private committed(queryRunner: QueryRunner): Promise<void> | void {
    const list = this.pending.get(queryRunner);
    if (!list) return;
    if (queryRunner.isTransactionActive) {
      // A savepoint was released: its work now belongs to the enclosing level.
      const depth = transactionDepth(queryRunner);
      for (const entry of list) entry.depth = Math.min(entry.depth, depth);
      return;
    }
    this.pending.delete(queryRunner);
    return this.run(
      list.map((entry) => entry.action),
      queryRunner.manager,
    );
  }

  private rolledBack(queryRunner: QueryRunner): void {
    const list = this.pending.get(queryRunner);
    if (!list) return;
    if (!queryRunner.isTransactionActive) {
      this.pending.delete(queryRunner);
      return;
    }
    const depth = transactionDepth(queryRunner);
    this.pending.set(
      queryRunner,
      list.filter((entry) => entry.depth <= depth),
    );
  }

  private async run(actions: AfterCommitAction[], committed: EntityManager): Promise<void> {
    for (const action of actions) {
      try {
        await action(committed);
      } catch (error) {
        this.logger.error(
          { error: error instanceof Error ? error.message : String(error) },
          'after-commit action failed',
        );
      }
    }
  }
}

import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { PinoLogger } from 'nestjs-pino';
import type { DataSource, EntityManager, EntitySubscriberInterface, QueryRunner } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '@agentauth/core';

type Action = () => Promise<void>;

interface Pending {
  depth: number;
  action: Action;
}

function transactionDepth(queryRunner: QueryRunner): number {
  return (queryRunner as unknown as { transactionDepth?: number }).transactionDepth ?? 1;
}

/**
 * Runs work right after a transaction COMMITs (awaited before `dataSource.transaction()` resolves), never
 * after a rollback; a savepoint's rollback drops what was scheduled inside it. Outside a transaction the work
 * runs at once. Failures are logged: the transaction is committed whatever happens here.
 */
@Injectable()
export class AfterCommit implements OnModuleInit, OnApplicationShutdown {
  private readonly pending = new WeakMap<QueryRunner, Pending[]>();
  private readonly hook: EntitySubscriberInterface = {
    afterTransactionCommit: (event) => this.committed(event.queryRunner),
    afterTransactionRollback: (event) => this.rolledBack(event.queryRunner),
  };

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly logger: PinoLogger,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
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

  async schedule(manager: EntityManager, action: Action): Promise<void> {
    const queryRunner = manager.queryRunner;
    if (!queryRunner?.isTransactionActive) {
      await this.run([action]);
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
      const depth = transactionDepth(queryRunner);
      for (const entry of list) entry.depth = Math.min(entry.depth, depth);
      return;
    }
    this.pending.delete(queryRunner);
    const actions = list.map((entry) => entry.action);
    if (this.config.databaseUrl === undefined) {
      // Embedded mode: a one-connection pool, still held by the committing transaction while this hook runs;
      // work that needs the database waits for its release instead of for a second connection that never comes.
      setImmediate(() => void this.run(actions));
      return;
    }
    return this.run(actions);
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

  private async run(actions: Action[]): Promise<void> {
    for (const action of actions) {
      try {
        await action();
      } catch (error) {
        this.logger.error(
          { error: error instanceof Error ? error.message : String(error) },
          'after-commit action failed',
        );
      }
    }
  }
}

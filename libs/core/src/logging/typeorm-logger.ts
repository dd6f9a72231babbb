import type { Logger as TypeOrmLogger, QueryRunner } from 'typeorm';
import type { PinoLogger } from 'nestjs-pino';

/** Routes TypeORM's own logging through pino; query parameters are never logged (they can hold hashes). */
export class PinoTypeOrmLogger implements TypeOrmLogger {
  constructor(
    private readonly logger: PinoLogger,
    private readonly logQueries: boolean,
  ) {}

  logQuery(query: string, _parameters?: unknown[], _queryRunner?: QueryRunner): void {
    if (this.logQueries) this.logger.debug({ component: 'typeorm', query }, 'query');
  }

  logQueryError(error: string | Error, query: string, _parameters?: unknown[]): void {
    const message = error instanceof Error ? error.message : error;
    this.logger.warn({ component: 'typeorm', query, error: message }, 'query failed');
  }

  logQuerySlow(time: number, query: string, _parameters?: unknown[]): void {
    this.logger.warn({ component: 'typeorm', query, duration_ms: time }, 'slow query');
  }

  logSchemaBuild(message: string): void {
    this.logger.debug({ component: 'typeorm' }, message);
  }

  logMigration(message: string): void {
    this.logger.info({ component: 'typeorm' }, message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    const text = typeof message === 'string' ? message : JSON.stringify(message);
    if (level === 'warn') this.logger.warn({ component: 'typeorm' }, text);
    else this.logger.info({ component: 'typeorm' }, text);
  }
}

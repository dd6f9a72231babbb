import * as fs from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { DataSource, type MigrationInterface } from 'typeorm';
import { buildDataSourceOptions } from '../database/data-source-options';

/** A migration class as listed in `migrations/index.ts`. */
export type MigrationClass = new () => MigrationInterface;

export interface EmbeddedPostgresOptions {
  /** Where PGlite keeps its files (created if missing); `undefined` = in memory. */
  dataDir: string | undefined;
  /**
   * Connections the socket server accepts at once: every pool of the process (TypeORM's main pool, the audit
   * writer's own one-connection pool, the migration run) must fit, or the extra connection is refused.
   */
  maxConnections: number;
}

/**
 * The embedded mode's PostgreSQL: PGlite (PostgreSQL compiled to WebAssembly) in this process, reached by
 * the unchanged `pg` driver through a socket server on 127.0.0.1 (a free port). PGlite runs one query at a
 * time and only serves the connection holding an open transaction while it is open, so the app runs its
 * pool at `max: 1` in this mode (docs/dev-mode.md).
 */
export class EmbeddedPostgres {
  private stopped = false;

  private constructor(
    private readonly db: PGlite,
    private readonly server: PGLiteSocketServer,
    /** `postgresql://postgres@127.0.0.1:<port>/postgres` (PGlite has no password). */
    readonly url: string,
    readonly dataDir: string | undefined,
  ) {}

  static async start(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
    if (options.dataDir) fs.mkdirSync(options.dataDir, { recursive: true });
    const db = options.dataDir ? await PGlite.create({ dataDir: options.dataDir }) : await PGlite.create();
    const server = new PGLiteSocketServer({
      db,
      port: 0,
      host: '127.0.0.1',
      maxConnections: options.maxConnections,
    });
    try {
      await server.start();
    } catch (error) {
      await db.close().catch(() => undefined);
      throw error;
    }
    const url = `postgresql://postgres@${server.getServerConn()}/postgres`;
    return new EmbeddedPostgres(db, server, url, options.dataDir);
  }

  /** Applies the pending migrations (the same list and table as `make migrate`) as the owner. */
  async migrate(migrations: MigrationClass[]): Promise<string[]> {
    const dataSource = new DataSource(buildDataSourceOptions({ url: this.url, poolSize: 1, migrations }));
    await dataSource.initialize();
    try {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      return applied.map((m) => m.name);
    } finally {
      await dataSource.destroy();
    }
  }

  /** Stops accepting connections, then shuts PGlite down cleanly (its files are consistent on disk). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.server.stop().catch(() => undefined);
    if (!this.db.closed) await this.db.close();
  }
}

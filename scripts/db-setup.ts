/**
 * Creates the database role and database named by DATABASE_URL when they do not exist, connecting as the
 * local PostgreSQL superuser (trust auth on a developer machine). Where that is not possible it says so and
 * leaves the database to the operator: it never fails `make run` on its own.
 */
import { Client } from 'pg';
import { databaseUrlsFromEnvironment, readEnvironment } from '../libs/core/src/config/app-config';
import { createScriptLogger } from '../libs/core/src/logging/logger-options';

const logger = createScriptLogger('agentauth-db-setup', readEnvironment());

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

async function main(): Promise<void> {
  const { migrationsDatabaseUrl } = databaseUrlsFromEnvironment();
  if (!migrationsDatabaseUrl) {
    logger.info('DATABASE_URL not set: nothing to set up');
    return;
  }
  const target = new URL(migrationsDatabaseUrl);
  const user = decodeURIComponent(target.username || 'postgres');
  const password = decodeURIComponent(target.password);
  const database = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(migrationsDatabaseUrl);
  admin.username = process.env.PGSUPERUSER ?? 'postgres';
  admin.password = process.env.PGSUPERPASSWORD ?? '';
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString(), connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
  } catch (error) {
    logger.warn(
      { error: error instanceof Error ? error.message : String(error) },
      'could not connect as the PostgreSQL superuser; assuming the role and database exist',
    );
    return;
  }
  try {
    const role = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [user]);
    if (role.rowCount === 0) {
      await client.query(
        `CREATE ROLE ${quoteIdent(user)} LOGIN CREATEROLE${password ? ` PASSWORD ${quoteLiteral(password)}` : ''}`,
      );
      logger.info({ role: user }, 'created database role');
    }
    const db = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (db.rowCount === 0) {
      await client.query(`CREATE DATABASE ${quoteIdent(database)} OWNER ${quoteIdent(user)}`);
      logger.info({ database }, 'created database');
    }
  } finally {
    await client.end();
  }
}

main().catch((error: unknown) => {
  logger.error({ error: error instanceof Error ? error.message : String(error) }, 'database setup failed');
  process.exit(1);
});

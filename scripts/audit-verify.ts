/**
 * `make audit-verify`: walks the audit hash chain (docs/audit.md) and names the first broken event.
 * Connects with DATABASE_URL as the API's role (DATABASE_APP_ROLE, default agentauth_app): reading is all
 * it needs. Prints one JSON line; exit code 0 = chain valid, 2 = chain broken, 1 = could not check.
 * Usage: node dist/scripts/audit-verify.js
 */
import { DataSource } from 'typeorm';
import {
  buildDataSourceOptions,
  databaseUrlsFromEnvironment,
  DEFAULT_DATABASE_APP_ROLE,
  readEnvironment,
} from '../libs/core/src';
import { type ChainVerification, verifyChain } from '../libs/audit/src/audit-chain';
import { AuditRepository } from '../libs/audit/src/audit.repository';

export async function auditVerify(
  env: Record<string, string | undefined> = readEnvironment(),
): Promise<{ result: ChainVerification; exitCode: 0 | 2 }> {
  const { databaseUrl } = databaseUrlsFromEnvironment(env);
  if (!databaseUrl) throw new Error('DATABASE_URL is not set');
  const appRole = env.DATABASE_APP_ROLE?.trim() || DEFAULT_DATABASE_APP_ROLE;
  const dataSource = await new DataSource(
    buildDataSourceOptions({ url: databaseUrl, appRole, poolSize: 1 }),
  ).initialize();
  try {
    const repository = new AuditRepository(dataSource);
    const result = await verifyChain((afterSeq, limit) => repository.chainPage(afterSeq, limit));
    return { result, exitCode: result.valid ? 0 : 2 };
  } finally {
    await dataSource.destroy();
  }
}

if (require.main === module) {
  auditVerify()
    .then(({ result, exitCode }) => {
      console.log(
        JSON.stringify({
          level: result.valid ? 'info' : 'error',
          msg: result.valid ? 'audit chain valid' : 'audit chain BROKEN',
          ...result,
        }),
      );
      process.exit(exitCode);
    })
    .catch((error: unknown) => {
      console.error(
        JSON.stringify({
          level: 'fatal',
          msg: 'audit verification failed to run',
          error: error instanceof Error ? error.message : String(error),
        }),
      );
      process.exit(1);
    });
}

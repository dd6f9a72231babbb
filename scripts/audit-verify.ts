/**
 * `make audit-verify`: walks the audit hash chain (docs/audit.md) and names the first broken event.
 * - DATABASE_URL set: connects as the API's role (DATABASE_APP_ROLE, default agentauth_app) — reading is all
 *   it needs — and walks the chain itself.
 * - DATABASE_URL unset (the embedded mode): the database lives inside the running API process, so it asks
 *   that API: `GET /api/v1/audit/verify` with `X-Admin-Key: ADMIN_API_KEY`, at PUBLIC_BASE_URL (default
 *   http://localhost:PORT).
 * Prints one JSON line (the report of `GET /audit/verify`); exit code 0 = chain valid, 2 = chain broken,
 * 1 = could not check. Usage: node dist/scripts/audit-verify.js
 */
import { DataSource } from 'typeorm';
import {
  buildDataSourceOptions,
  databaseUrlsFromEnvironment,
  DEFAULT_DATABASE_APP_ROLE,
  readEnvironment,
} from '../libs/core/src';
import { type AuditVerificationReport, verificationReport, verifyChain } from '../libs/audit/src/audit-chain';
import { AuditRepository } from '../libs/audit/src/audit.repository';

type Env = Record<string, string | undefined>;

/** A failure to check (not a broken chain), with what to do about it. */
export class AuditVerifyError extends Error {
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
  }
}

async function verifyInDatabase(databaseUrl: string, env: Env): Promise<AuditVerificationReport> {
  const appRole = env.DATABASE_APP_ROLE?.trim() || DEFAULT_DATABASE_APP_ROLE;
  const dataSource = await new DataSource(
    buildDataSourceOptions({ url: databaseUrl, appRole, poolSize: 1 }),
  ).initialize();
  try {
    const repository = new AuditRepository(dataSource);
    return verificationReport(await verifyChain((afterSeq, limit) => repository.chainPage(afterSeq, limit)));
  } finally {
    await dataSource.destroy();
  }
}

async function verifyThroughApi(env: Env): Promise<AuditVerificationReport> {
  const port = env.PORT?.trim() || '8000';
  const base = (env.PUBLIC_BASE_URL?.trim() || `http://localhost:${port}`).replace(/\/+$/, '');
  const url = `${base}${env.API_V1_PREFIX?.trim() || '/api/v1'}/audit/verify`;
  let res: Response;
  try {
    res = await fetch(url, { headers: { 'X-Admin-Key': env.ADMIN_API_KEY?.trim() ?? '' } });
  } catch {
    throw new AuditVerifyError(
      `no AgentAuth API answers at ${base} (DATABASE_URL is unset: the embedded database lives inside the API process)`,
      'start it with `make run` (same PORT) and run `make audit-verify` again, or set DATABASE_URL to check a PostgreSQL database directly',
    );
  }
  if (res.status === 401) {
    throw new AuditVerifyError(
      `the API at ${base} refused ADMIN_API_KEY (401)`,
      'use the ADMIN_API_KEY the API was started with (environment or .env)',
    );
  }
  if (res.status !== 200) {
    throw new AuditVerifyError(`GET ${url} answered ${res.status}: ${await res.text()}`, 'see the API log');
  }
  return (await res.json()) as AuditVerificationReport;
}

export async function auditVerify(
  env: Env = readEnvironment(),
): Promise<{ result: AuditVerificationReport; exitCode: 0 | 2 }> {
  const { databaseUrl } = databaseUrlsFromEnvironment(env);
  const result = databaseUrl ? await verifyInDatabase(databaseUrl, env) : await verifyThroughApi(env);
  return { result, exitCode: result.verified ? 0 : 2 };
}

if (require.main === module) {
  auditVerify()
    .then(({ result, exitCode }) => {
      console.log(
        JSON.stringify({
          level: result.verified ? 'info' : 'error',
          msg: result.verified ? 'audit chain valid' : 'audit chain BROKEN',
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
          ...(error instanceof AuditVerifyError ? { fix: error.fix } : {}),
        }),
      );
      process.exit(1);
    });
}

/**
 * The `integration-embedded` jest project (AGENTAUTH_TEST_EMBEDDED=1): the integration suites against the
 * embedded mode's backends — PGlite (one in-memory instance per jest worker, served by the global setup's
 * process through the same socket server the API uses) and the in-process Redis adapter and jobs (REDIS_URL
 * unset in every worker). The app runs its database pool at `max: 1` as in the embedded mode.
 *
 * Difference from `make run`: PGlite lives in the jest parent process rather than in the app's own (tests
 * create many apps per file and query the database directly), so the app's connection URL is set.
 */
import { EmbeddedPostgres } from '../../libs/core/src/embedded/embedded-postgres';
import { MIGRATIONS } from '../../migrations';

export function embeddedTestMode(): boolean {
  return process.env.AGENTAUTH_TEST_EMBEDDED === '1';
}

const KEY = '__agentauthEmbeddedServers';
type Holder = Record<string, EmbeddedPostgres[] | undefined>;

/** Global setup: one migrated in-memory PGlite per jest worker; URLs in AGENTAUTH_TEST_PGLITE_URLS. */
export async function startEmbeddedDatabases(workers: number): Promise<void> {
  const servers: EmbeddedPostgres[] = [];
  for (let worker = 1; worker <= workers; worker++) {
    const embedded = await EmbeddedPostgres.start({ dataDir: undefined, maxConnections: 32 });
    await embedded.migrate(MIGRATIONS);
    servers.push(embedded);
  }
  (globalThis as unknown as Holder)[KEY] = servers;
  process.env.AGENTAUTH_TEST_PGLITE_URLS = JSON.stringify(servers.map((s) => s.url));
}

export async function stopEmbeddedDatabases(): Promise<void> {
  const holder = globalThis as unknown as Holder;
  await Promise.all((holder[KEY] ?? []).map((s) => s.stop()));
  holder[KEY] = undefined;
}

/** This jest worker's PGlite URL. */
export function embeddedDatabaseUrl(workerId: string): string {
  const urls = JSON.parse(process.env.AGENTAUTH_TEST_PGLITE_URLS ?? '[]') as string[];
  const url = urls[(Number(workerId) - 1) % Math.max(1, urls.length)];
  if (!url) throw new Error('AGENTAUTH_TEST_EMBEDDED=1 but the global setup started no PGlite');
  return url;
}

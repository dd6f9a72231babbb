import { startEmbeddedDatabases } from './embedded-test-env';
import { runId } from './test-env';

/** `integration-embedded` project: one migrated in-memory PGlite per jest worker (no PostgreSQL, no Redis). */
export default async function globalSetupEmbedded(globalConfig: { maxWorkers: number }): Promise<void> {
  process.env.AGENTAUTH_TEST_RUN_ID = runId();
  await startEmbeddedDatabases(Math.max(1, globalConfig.maxWorkers));
}

/**
 * `make rotate-keys`: rotates the token-signing keys now instead of waiting for the schedule. It only
 * enqueues the `key-rotation/rotate` job the schedule produces (`JobsProducer.rotateSigningKeysNow`) and
 * exits; a worker process runs it: the next key is published in JWKS at once and signs once its
 * publication delay has passed (docs/tokens.md, "Signing keys"). Idempotent while a published key waits.
 * Needs the deployment's REDIS_URL and DATABASE_URL (BullMQ mode): the embedded mode has no queue to reach.
 * Prints one JSON line with the job id. Exit 0 = enqueued, 1 = not.
 * Usage: node dist/scripts/rotate-keys.js
 */
import { PinoLogger } from 'nestjs-pino';
import { createScriptLogger, loadConfig, readEnvironment } from '../libs/core/src';
import { BullJobsProducer, QUEUES, usesBullQueues } from '../libs/jobs/src';

export async function rotateKeysNow(
  env: Record<string, string | undefined> = readEnvironment(),
): Promise<string> {
  const config = loadConfig(env);
  if (!usesBullQueues(config)) {
    throw new Error(
      'REDIS_URL and DATABASE_URL must both be set: without them jobs run inside the API process (embedded mode), and no queue exists to enqueue to',
    );
  }
  const logger = createScriptLogger('agentauth-rotate-keys', env);
  const producer = new BullJobsProducer(config, new PinoLogger({ pinoHttp: { logger } }));
  try {
    return await producer.rotateSigningKeysNow();
  } finally {
    await producer.onApplicationShutdown();
  }
}

if (require.main === module) {
  const env = readEnvironment();
  const logger = createScriptLogger('agentauth-rotate-keys', env);
  rotateKeysNow(env)
    .then((jobId) => {
      logger.info({ queue: QUEUES.keyRotation, job_id: jobId }, 'signing-key rotation enqueued');
      process.exit(0);
    })
    .catch((error: unknown) => {
      logger.error(
        { error: error instanceof Error ? error.message : String(error) },
        'signing-key rotation not enqueued',
      );
      process.exit(1);
    });
}

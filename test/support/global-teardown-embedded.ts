import { stopEmbeddedDatabases } from './embedded-test-env';
import { armExitWatchdog } from './exit-watchdog';
import { checkLogLines } from './global-teardown';
import { runId } from './test-env';

/** Stops the PGlite instances, then checks every log line of the run like the main teardown. */
export default async function globalTeardownEmbedded(): Promise<void> {
  await stopEmbeddedDatabases();
  checkLogLines(runId());
  armExitWatchdog();
}

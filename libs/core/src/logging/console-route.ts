import { format } from 'node:util';
import type { Logger } from 'pino';

/**
 * Dependencies that print with `console.*` (BullMQ's Redis warnings, ioredis' unhandled error events)
 * would break the one-JSON-object-per-line rule: the API and the worker route them through a JSON logger
 * before anything else starts, as `{component: "console"}` lines at the matching level.
 */
export function routeConsoleTo(logger: Logger): void {
  /* eslint-disable no-console -- replacing console.* is the point here */
  const forward =
    (level: 'info' | 'warn' | 'error' | 'debug') =>
    (...args: unknown[]) =>
      logger[level]({ component: 'console' }, format(...args));
  console.log = forward('info');
  console.info = forward('info');
  console.warn = forward('warn');
  console.error = forward('error');
  console.debug = forward('debug');
  /* eslint-enable no-console */
}

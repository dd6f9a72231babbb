import { format } from 'node:util';
import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { ROOT_LOGGER } from '@agentauth/core';

/** The last shutdown hook: flushes pino's asynchronous buffer so no line is lost when the process exits. */
@Injectable()
export class LogFlushOnShutdown implements OnApplicationShutdown {
  constructor(@Inject(ROOT_LOGGER) private readonly logger: Logger) {}

  async onApplicationShutdown(): Promise<void> {
    await new Promise<void>((resolve) => this.logger.flush(() => resolve()));
  }
}

/**
 * Dependencies that print with `console.*` (BullMQ's Redis warnings, for one) would break the
 * one-JSON-object-per-line rule: route them through a JSON logger instead.
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

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

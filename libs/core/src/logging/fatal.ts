import * as os from 'node:os';
import { ConfigValidationError, readEnvironment } from '../config/app-config';

/**
 * Last-resort start-up failure line, written before (or without) a pino logger, still as one JSON object
 * with the standard fields.
 */
export function writeFatalStartupError(serviceName: string, error: unknown): void {
  const message =
    error instanceof ConfigValidationError
      ? error.message
      : error instanceof Error
        ? (error.stack ?? error.message)
        : String(error);
  process.stderr.write(
    `${JSON.stringify({
      level: 'fatal',
      timestamp: new Date().toISOString(),
      service_name: serviceName,
      environment: readEnvironment().ENVIRONMENT ?? 'development',
      hostname: os.hostname(),
      msg: 'startup failed',
      error: message,
    })}\n`,
  );
}

import type { LoggerService } from '@nestjs/common';

/**
 * Nest's own start-up narration: "Starting Nest application", one "dependencies initialized" line per
 * module, one "Mapped {…} route" line per route, "Nest application successfully started". Useful when
 * debugging the wiring, noise on a normal start: at `debug` level, so the process's own start-up line is the
 * last one before requests (LOG_LEVEL=debug shows them again).
 */
export const FRAMEWORK_NARRATION_CONTEXTS: ReadonlySet<string> = new Set([
  'NestFactory',
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestApplication',
]);

/** The context argument Nest passes last to `Logger.log(message, context)`. */
function contextOf(params: unknown[]): string | undefined {
  const last = params[params.length - 1];
  return typeof last === 'string' ? last : undefined;
}

/** Wraps the app's logger: Nest's narration (`log` from the contexts above) goes to `debug`, the rest as is. */
export class QuietFrameworkLogger implements LoggerService {
  constructor(private readonly inner: LoggerService) {}

  log(message: unknown, ...params: unknown[]): void {
    const context = contextOf(params);
    if (context && FRAMEWORK_NARRATION_CONTEXTS.has(context) && this.inner.debug) {
      this.inner.debug(message, ...params);
      return;
    }
    this.inner.log(message, ...params);
  }

  error(message: unknown, ...params: unknown[]): void {
    // `app.listen` logs its failure ("Error: listen EADDRINUSE …") and rejects; the rejection ends start-up
    // with one fatal line that names the port and the fix (writeFatalStartupError): this copy says less.
    if (
      contextOf(params) === 'NestApplication' &&
      /^Error: listen /.test(String(message)) &&
      this.inner.debug
    ) {
      this.inner.debug(message, ...params);
      return;
    }
    this.inner.error(message, ...params);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.inner.warn(message, ...params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.inner.debug?.(message, ...params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.inner.verbose?.(message, ...params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    if (this.inner.fatal) this.inner.fatal(message, ...params);
    else this.inner.error(message, ...params);
  }
}

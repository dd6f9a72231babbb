import type { ExecutionContext } from '@nestjs/common';

/**
 * A fake HTTP `ExecutionContext` for the global guard: a handler carrying one route metadata entry (what a
 * decorator such as `@AdminOnly()` or `@Auth()` would set) and a request with these headers.
 */
export function routeContext(
  metadataKey: string | symbol,
  metadataValue: unknown,
  headers: Record<string, string>,
): ExecutionContext {
  const handler = () => undefined;
  Reflect.defineMetadata(metadataKey, metadataValue, handler);
  return {
    getType: () => 'http',
    getHandler: () => handler,
    getClass: () => class {},
    switchToHttp: () => ({
      getRequest: () => ({ headers }),
      getResponse: () => ({ setHeader: () => undefined }),
    }),
  } as unknown as ExecutionContext;
}

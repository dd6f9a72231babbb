import type { ExecutionContext } from '@nestjs/common';

/** What Nest hands out as a route's handler and controller (`Function`). */
type Target = ReturnType<ExecutionContext['getHandler']>;

/**
 * A route's metadata, read once per (handler, controller) and kept: guards and interceptors run on every
 * request, and decorator metadata never changes after start-up, so reading it through the Reflector per
 * request (several `Reflect.getMetadata` walks each) is work thrown away. The first request of a route reads
 * it; every later one is a map lookup.
 */
export class RouteMetadataCache<T> {
  private readonly byHandler = new WeakMap<Target, Map<Target, T>>();

  constructor(private readonly read: (targets: [handler: Target, controller: Target]) => T) {}

  of(context: ExecutionContext): T {
    const handler = context.getHandler();
    const controller = context.getClass();
    let perController = this.byHandler.get(handler);
    if (!perController) {
      perController = new Map();
      this.byHandler.set(handler, perController);
    }
    if (perController.has(controller)) return perController.get(controller) as T;
    const value = this.read([handler, controller]);
    perController.set(controller, value);
    return value;
  }
}

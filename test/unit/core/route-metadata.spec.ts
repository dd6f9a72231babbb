import type { ExecutionContext } from '@nestjs/common';
import { RouteMetadataCache } from '@agentauth/core';

/** A minimal ExecutionContext naming a handler and its controller. */
function contextOf(handler: () => void, controller: new () => unknown): ExecutionContext {
  return { getHandler: () => handler, getClass: () => controller } as unknown as ExecutionContext;
}

describe('RouteMetadataCache', () => {
  class A {}
  class B {}
  const one = () => undefined;
  const two = () => undefined;

  it('reads a route once, then answers from memory, per (handler, controller)', () => {
    const read = jest.fn(([handler, controller]: [object, object]) => ({ handler, controller }));
    const cache = new RouteMetadataCache(read);
    expect(cache.of(contextOf(one, A))).toEqual({ handler: one, controller: A });
    expect(cache.of(contextOf(one, A))).toEqual({ handler: one, controller: A });
    expect(read).toHaveBeenCalledTimes(1);
    // The same method on another controller (an inherited handler) and another handler are other routes.
    expect(cache.of(contextOf(one, B))).toEqual({ handler: one, controller: B });
    expect(cache.of(contextOf(two, A))).toEqual({ handler: two, controller: A });
    expect(read).toHaveBeenCalledTimes(3);
  });

  it('remembers an undefined answer too (a route without the metadata is not read again)', () => {
    const read = jest.fn(() => undefined);
    const cache = new RouteMetadataCache(read);
    expect(cache.of(contextOf(one, A))).toBeUndefined();
    expect(cache.of(contextOf(one, A))).toBeUndefined();
    expect(read).toHaveBeenCalledTimes(1);
  });
});

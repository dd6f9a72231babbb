import type { IncomingMessage, ServerResponse } from 'node:http';
import pino, { type Logger } from 'pino';
import { storage } from 'nestjs-pino/storage';
import {
  bindRequestLoggerMiddleware,
  requestLoggerMiddleware,
} from '../../../libs/core/src/logging/request-logger';

function setUp(header?: string) {
  const lines: Record<string, unknown>[] = [];
  const root = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  const child = jest.spyOn(root, 'child');
  const headers = new Map<string, string>();
  const req = { headers: header ? { 'x-request-id': header } : {} } as unknown as IncomingMessage & {
    id?: string;
    log: Logger;
  };
  const res = {
    setHeader: (name: string, value: string) => headers.set(name, value),
  } as unknown as ServerResponse;
  return { root, child, req, res, headers, lines };
}

describe('requestLoggerMiddleware', () => {
  it('sets the request id and its header, and builds no child logger until one is used', () => {
    const { root, child, req, res, headers, lines } = setUp('client-id-1');
    let nexts = 0;
    requestLoggerMiddleware(root)(req, res, () => nexts++);
    expect(nexts).toBe(1);
    expect(req.id).toBe('client-id-1');
    expect(headers.get('X-Request-ID')).toBe('client-id-1');
    expect(child).not.toHaveBeenCalled();
    req.log.info('hello');
    req.log.info('again');
    expect(child).toHaveBeenCalledTimes(1);
    expect(lines.map((l) => [l.msg, l.request_id])).toEqual([
      ['hello', 'client-id-1'],
      ['again', 'client-id-1'],
    ]);
  });

  it('replaces an insane client id with a uuid', () => {
    const { root, req, res } = setUp('bad id with spaces');
    requestLoggerMiddleware(root)(req, res, () => undefined);
    expect(req.id).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('bindRequestLoggerMiddleware', () => {
  it("exposes the request's logger to nestjs-pino only when a line is written", () => {
    const { root, child, req, res } = setUp('client-id-2');
    requestLoggerMiddleware(root)(req, res, () => undefined);
    bindRequestLoggerMiddleware(req, res, () => {
      const store = storage.getStore();
      expect(store).toBeDefined();
      expect(child).not.toHaveBeenCalled();
      expect(store!.logger.bindings()).toEqual({ request_id: 'client-id-2' });
      expect(child).toHaveBeenCalledTimes(1);
      // PinoLogger.assign() sets a child with more fields
      store!.logger = store!.logger.child({ extra: true });
      expect(store!.logger.bindings()).toEqual({ request_id: 'client-id-2', extra: true });
    });
  });
});

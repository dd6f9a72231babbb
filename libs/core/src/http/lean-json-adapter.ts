import { StreamableFile } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { Response } from 'express';

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/**
 * A JSON document serialised once, when it is built (the discovery documents: fixed at start-up). A route
 * returns it like any body; the adapter writes its text as it is.
 */
export class PreserializedJson {
  readonly text: string;

  constructor(value: unknown) {
    const text = JSON.stringify(value);
    if (typeof text !== 'string') throw new TypeError('PreserializedJson needs a JSON-serialisable value');
    this.text = text;
  }

  /** What `JSON.stringify` of the response body yields (Express's `res.json` calls `toJSON`). */
  toJSON(): unknown {
    return JSON.parse(this.text);
  }
}

/**
 * Makes `@nestjs/platform-express` answer a route's object or array with a lean JSON reply: one
 * `JSON.stringify`, `Content-Type` and `Content-Length`, and `res.end` — instead of Express's
 * `res.json` → `res.send`, which re-parses the content type to add a charset, computes freshness against
 * `ETag`/`Last-Modified` headers this API never sets (ETag is off) and goes through `res.set` for each
 * header. Measured on this machine (issue 23's table): Express 5 `res.json` 5,550–6,510 requests/s against
 * 9,056 for `writeHead`/`end` on the same route. It writes byte for byte what `res.json` writes for these
 * bodies; everything else (no body, strings, buffers, streams, errors, no-body statuses, a route that set
 * its own `Content-Type`) takes Nest's own path. Installed by `configureApiApp`, so the API and every test
 * app built through it answer the same way.
 */
export function installLeanJsonReply(adapter: ExpressAdapter): void {
  const nestReply = adapter.reply.bind(adapter);
  adapter.reply = (response: Response, body: unknown, statusCode?: number): unknown => {
    const status = statusCode || response.statusCode;
    // No-body statuses keep Express's header stripping.
    const text =
      status === 204 || status === 205 || status === 304 ? undefined : leanJsonText(response, body);
    if (text === undefined) return nestReply(response, body, statusCode);
    response.statusCode = status;
    return writeJson(response, text);
  };
}

/** The text to write for `body`, or `undefined` when it is not a plain JSON reply. */
function leanJsonText(response: Response, body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  if (response.hasHeader('content-type')) return undefined;
  if (body instanceof PreserializedJson) return body.text;
  if (body instanceof StreamableFile || body instanceof Error || Buffer.isBuffer(body)) return undefined;
  if (ArrayBuffer.isView(body) || body instanceof ArrayBuffer) return undefined;
  return JSON.stringify(body);
}

/** Writes a JSON text as `res.json` would for a status with a body (none is sent to HEAD). */
function writeJson(response: Response, text: string): Response {
  response.setHeader('Content-Type', JSON_CONTENT_TYPE);
  response.setHeader('Content-Length', Buffer.byteLength(text));
  if (response.req.method === 'HEAD') response.end();
  else response.end(text);
  return response;
}

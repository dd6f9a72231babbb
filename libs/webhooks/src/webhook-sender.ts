import * as http from 'node:http';
import * as https from 'node:https';
import type { LookupFunction } from 'node:net';
import { performance } from 'node:perf_hooks';
import { bareHostname, type ResolvedAddress } from './webhook-target';

export interface WebhookRequest {
  url: URL;
  /** The vetted address to connect to; the URL's host name is used only for Host, SNI and TLS checks. */
  target: ResolvedAddress;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
}

export interface WebhookResponse {
  /** HTTP status, or null when no response arrived (connection error, timeout). */
  statusCode: number | null;
  /** Short reason when the attempt did not succeed; null on 2xx. The response body is never kept. */
  error: string | null;
  durationMs: number;
}

const MAX_ERROR_LENGTH = 200;

/** A `lookup` that answers every name with the one vetted address (handles `{ all: true }` callers). */
function pinnedLookup(target: ResolvedAddress): LookupFunction {
  return ((_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  }) as unknown as LookupFunction;
}

/**
 * POSTs one delivery. Connects to the vetted address only (no second DNS resolution), never follows a
 * redirect (3xx is a failed attempt), gives up after `timeoutMs` for the whole exchange, and discards the
 * response body.
 */
export function postWebhook(request: WebhookRequest): Promise<WebhookResponse> {
  const started = performance.now();
  const { url } = request;
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise<WebhookResponse>((resolve) => {
    let settled = false;
    const finish = (statusCode: number | null, error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({
        statusCode,
        error: error === null ? null : error.slice(0, MAX_ERROR_LENGTH),
        durationMs: Math.round(performance.now() - started),
      });
    };
    const req = transport.request({
      protocol: url.protocol,
      hostname: bareHostname(url),
      port: url.port || undefined,
      path: `${url.pathname}${url.search}`,
      method: 'POST',
      agent: false,
      lookup: pinnedLookup(request.target),
      servername: url.protocol === 'https:' ? bareHostname(url) : undefined,
      headers: {
        ...request.headers,
        'Content-Type': 'application/json',
        'Content-Length': String(Buffer.byteLength(request.body)),
        'User-Agent': 'AgentAuth-Webhooks/1.0',
      },
    });
    const timer = setTimeout(() => {
      finish(null, `timed out after ${request.timeoutMs} ms`);
      req.destroy();
    }, request.timeoutMs);
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      const outcome =
        status >= 200 && status < 300
          ? null
          : status >= 300 && status < 400
            ? `HTTP ${status} (redirects are not followed)`
            : `HTTP ${status}`;
      res.resume();
      res.on('end', () => finish(status, outcome));
      res.on('error', () => finish(status, outcome));
      res.on('close', () => finish(status, outcome));
    });
    req.on('error', (error: NodeJS.ErrnoException) => finish(null, error.code ?? error.message));
    req.end(request.body);
  });
}

import type { Clock } from './clock.js';
import { AgentAuthError, NetworkError, OAuthError, ProblemError, type ProblemDocument } from './errors.js';

/** When to retry a request: backoff with jitter, or the server's `Retry-After` when it gives one. */
export interface RetryPolicy {
  /** Retries after the first attempt (0 = never retry). Default 3. */
  maxRetries: number;
  /** First backoff delay; doubled on every retry. Default 200 ms. */
  baseDelayMs: number;
  /** Cap of one backoff delay. Default 5 s. */
  maxDelayMs: number;
  /** A `Retry-After` longer than this is not waited for: the answer is returned as an error. Default 60 s. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxRetries: 3,
  baseDelayMs: 200,
  maxDelayMs: 5_000,
  maxRetryAfterMs: 60_000,
};

/**
 * What may be retried. `transient`: network errors, 429 and 5xx (other than 501) — for requests that change
 * nothing or are safe to repeat. `rate-limit`: 429 only — the server refused before doing anything; used for
 * refresh-token grants, where repeating a request the server may have processed would present an already
 * rotated refresh token and revoke the whole family (reuse detection).
 */
export type RetryOn = 'transient' | 'rate-limit';

export interface HttpContext {
  fetch: typeof globalThis.fetch;
  clock: Clock;
  retry: RetryPolicy;
  /** A number in [0, 1) for the backoff jitter (injected in tests). */
  random: () => number;
}

export function requestIdOf(res: Response): string | undefined {
  return res.headers.get('x-request-id') ?? undefined;
}

/** `Retry-After` as milliseconds from now (delta-seconds or an HTTP date), or undefined. */
export function retryAfterMs(res: Response, now: number): number | undefined {
  const value = res.headers.get('retry-after');
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Backoff before retry number `attempt` (0-based): base · 2^attempt, capped, with jitter in [½, 1]. */
export function backoffMs(policy: RetryPolicy, attempt: number, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

function retryable(status: number, retryOn: RetryOn): boolean {
  if (status === 429) return true;
  return retryOn === 'transient' && status >= 500 && status !== 501;
}

/** A request's init, or a function building it anew for every attempt (single-use JWTs: assertions, proofs). */
export type RequestInitSource =
  (RequestInit & { body?: string }) | (() => Promise<RequestInit & { body?: string }>);

/**
 * One HTTP request with the retry policy. Returns the last response (successful or not); throws
 * NetworkError when the server could not be reached. `init.body` must be repeatable (a string or undefined);
 * `init` given as a function is called before every attempt.
 */
export async function send(
  ctx: HttpContext,
  url: string,
  init: RequestInitSource,
  retryOn: RetryOn = 'transient',
): Promise<Response> {
  for (let attempt = 0; ; attempt++) {
    const canRetry = attempt < ctx.retry.maxRetries;
    let res: Response;
    const attemptInit = typeof init === 'function' ? await init() : init;
    try {
      res = await ctx.fetch(url, attemptInit);
    } catch (cause) {
      if (canRetry && retryOn === 'transient') {
        await ctx.clock.sleep(backoffMs(ctx.retry, attempt, ctx.random));
        continue;
      }
      throw new NetworkError(`request to ${url} failed: ${(cause as Error)?.message ?? String(cause)}`, {
        cause,
      });
    }
    if (!canRetry || !retryable(res.status, retryOn)) return res;
    const asked = retryAfterMs(res, ctx.clock.now());
    if (asked !== undefined && asked > ctx.retry.maxRetryAfterMs) return res;
    await res.body?.cancel().catch(() => undefined);
    await ctx.clock.sleep(asked ?? backoffMs(ctx.retry, attempt, ctx.random));
  }
}

async function jsonBody(res: Response): Promise<unknown> {
  const text = await res.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function retryAfterSeconds(res: Response): number | undefined {
  const ms = retryAfterMs(res, Date.now());
  return ms === undefined ? undefined : Math.ceil(ms / 1000);
}

/** The error of a failed answer from an OAuth endpoint (RFC 6749 §5.2 body when there is one). */
export async function oauthErrorFrom(res: Response): Promise<AgentAuthError> {
  const body = await jsonBody(res);
  const options = {
    status: res.status,
    requestId: requestIdOf(res),
    retryAfterSeconds: retryAfterSeconds(res),
  };
  if (body && typeof body === 'object' && typeof (body as { error?: unknown }).error === 'string') {
    const { error, error_description } = body as { error: string; error_description?: unknown };
    return new OAuthError(
      error,
      typeof error_description === 'string' ? error_description : undefined,
      options,
    );
  }
  if (body && typeof body === 'object' && 'status' in body) {
    return new ProblemError(body as ProblemDocument, options);
  }
  return new AgentAuthError(`HTTP ${res.status} from ${res.url || 'the server'}`, options);
}

/** The error of a failed answer from the management API (RFC 9457 problem document when there is one). */
export async function problemErrorFrom(res: Response): Promise<AgentAuthError> {
  const body = await jsonBody(res);
  const options = {
    status: res.status,
    requestId: requestIdOf(res),
    retryAfterSeconds: retryAfterSeconds(res),
  };
  if (body && typeof body === 'object') {
    if (typeof (body as { error?: unknown }).error === 'string') {
      const { error, error_description } = body as { error: string; error_description?: unknown };
      return new OAuthError(
        error,
        typeof error_description === 'string' ? error_description : undefined,
        options,
      );
    }
    return new ProblemError(body as ProblemDocument, options);
  }
  return new AgentAuthError(`HTTP ${res.status} from ${res.url || 'the server'}`, options);
}

/** Joins a base URL and a path without doubling or losing the slash. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { AgentAuthClient } from '../client/agentauth-client.js';
import { normalizeIssuer } from '../client/discovery.js';
import { AgentAuthError, OAuthError, ProblemError } from '../errors.js';
import type { components, operations, paths } from './schema.generated.js';

export type { components, operations, paths };

/** The typed client of the management API: `GET`, `POST`, `PATCH`, `PUT`, `DELETE` on the OpenAPI paths. */
export type ManagementClient = Client<paths>;

/** A schema of the OpenAPI document, by name: `Schema<'AgentResponse'>`. */
export type Schema<Name extends keyof components['schemas']> = components['schemas'][Name];

export interface ManagementClientOptions {
  /** The server's public base URL (the issuer); the OpenAPI paths carry the `/api/v1` prefix. */
  baseUrl: string;
  /**
   * The agent whose tokens authenticate the calls (`Authorization: Bearer`, renewed and retried once on
   * `invalid_token` by the agent client). Omit for admin-key-only calls.
   */
  agent?: AgentAuthClient;
  /** Token request for the calls (scope; `resource` once the management API is a resource server). */
  tokenRequest?: { scope?: string | string[]; resource?: string };
  /** `X-Admin-Key` for the admin routes (`/stats`, `/audit/events`). */
  adminKey?: string;
  /** The fetch used when no agent is given (default: global fetch). */
  fetch?: typeof globalThis.fetch;
  /** Extra headers on every request. */
  headers?: Record<string, string>;
}

/**
 * A typed management client generated from AgentAuth's OpenAPI document (openapi-typescript types +
 * openapi-fetch). Calls return `{ data, error, response }`; `unwrap()` turns them into data or a typed error.
 */
export function createManagementClient(options: ManagementClientOptions): ManagementClient {
  const headers: Record<string, string> = { ...options.headers };
  if (options.adminKey) headers['X-Admin-Key'] = options.adminKey;
  const agent = options.agent;
  const plainFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const fetchFn: ClientOptions['fetch'] = agent
    ? async (input: Request) => {
        const body = input.body === null ? undefined : await input.text();
        return agent.fetch(
          input.url,
          { method: input.method, headers: input.headers, body, signal: input.signal },
          options.tokenRequest,
        );
      }
    : (input: Request) => plainFetch(input);
  return createClient<paths>({ baseUrl: normalizeIssuer(options.baseUrl), headers, fetch: fetchFn });
}

/** A management client for an agent, at the agent client's issuer. */
export function managementClientFor(
  agent: AgentAuthClient,
  options: Omit<ManagementClientOptions, 'baseUrl' | 'agent'> = {},
): ManagementClient {
  return createManagementClient({ ...options, baseUrl: agent.issuer, agent });
}

/**
 * The data of a successful call, or the call's failure as a typed error: ProblemError (RFC 9457 problem
 * document, with its request id), OAuthError, or AgentAuthError for anything else.
 */
export async function unwrap<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await call;
  if (response.ok) return data as T;
  const requestId = response.headers.get('x-request-id') ?? undefined;
  const retryAfter = response.headers.get('retry-after');
  const retryAfterSeconds = retryAfter && /^\d+$/.test(retryAfter) ? Number(retryAfter) : undefined;
  if (error && typeof error === 'object') {
    const body = error as Record<string, unknown>;
    if (typeof body.error === 'string') {
      const description = typeof body.error_description === 'string' ? body.error_description : undefined;
      throw new OAuthError(body.error, description, {
        status: response.status,
        requestId,
        retryAfterSeconds,
      });
    }
    throw new ProblemError(body, {
      status: response.status,
      requestId,
      retryAfterSeconds,
    });
  }
  throw new AgentAuthError(`HTTP ${response.status} from ${response.url}`, {
    status: response.status,
    requestId,
  });
}

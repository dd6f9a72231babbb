/**
 * Typed errors of the SDK. Every error raised after an HTTP exchange carries the status and the server's
 * request id (`X-Request-ID`), so a failure can be found in the server's logs and audit trail.
 */
export class AgentAuthError extends Error {
  /** HTTP status of the answer, when there was one. */
  readonly status?: number;
  /** The server's `X-Request-ID` for the failed request (or `request_id` of a problem document). */
  readonly requestId?: string;

  constructor(message: string, options: { status?: number; requestId?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.status = options.status;
    this.requestId = options.requestId;
  }
}

/** An RFC 6749 error from an OAuth endpoint (token, introspection, revocation): `{error, error_description}`. */
export class OAuthError extends AgentAuthError {
  /** The RFC 6749 `error` code, e.g. `invalid_client`, `invalid_grant`, `invalid_scope`. */
  readonly error: string;
  readonly errorDescription?: string;
  /** Seconds from `Retry-After` on a 429/503 answer. */
  readonly retryAfterSeconds?: number;

  constructor(
    error: string,
    errorDescription: string | undefined,
    options: { status?: number; requestId?: string; retryAfterSeconds?: number } = {},
  ) {
    super(errorDescription ? `${error}: ${errorDescription}` : error, options);
    this.error = error;
    this.errorDescription = errorDescription;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** One field of a validation failure in a problem document. */
export interface ProblemFieldError {
  field?: string;
  message?: string;
  [key: string]: unknown;
}

/** An RFC 9457 problem document from the management API. */
export interface ProblemDocument {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  request_id?: string;
  errors?: ProblemFieldError[];
  [key: string]: unknown;
}

/** An RFC 9457 problem answer of the management API (4xx/5xx with `application/problem+json`). */
export class ProblemError extends AgentAuthError {
  readonly problem: ProblemDocument;
  readonly retryAfterSeconds?: number;

  constructor(
    problem: ProblemDocument,
    options: { status?: number; requestId?: string; retryAfterSeconds?: number } = {},
  ) {
    super(problem.detail ?? problem.title ?? `HTTP ${options.status ?? problem.status ?? '?'}`, {
      status: options.status ?? problem.status,
      requestId: problem.request_id ?? options.requestId,
    });
    this.problem = problem;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  /** The problem's `type` URI (its last segment names the rule, e.g. `scope_escalation`). */
  get type(): string | undefined {
    return this.problem.type;
  }
}

/** The server could not be reached (connection refused, DNS, reset) after the retries allowed. */
export class NetworkError extends AgentAuthError {}

/** A discovery document or a token response that does not have the shape the standards require. */
export class ProtocolError extends AgentAuthError {}

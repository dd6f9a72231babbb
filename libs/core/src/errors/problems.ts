/** One invalid input field, as listed in a validation problem's `errors`. */
export interface FieldError {
  field: string;
  message: string;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function titleForStatus(status: number): string {
  return TITLES[status] ?? (status >= 500 ? 'Server Error' : 'Request Error');
}

/** RFC 9457 `type` for a stable problem code. */
export function problemType(code: string): string {
  return `urn:agentauth:problem:${code}`;
}

/**
 * A domain error with a stable code, mapped to HTTP in exactly one place (ProblemDetailsFilter).
 * Services throw these; controllers never build error JSON.
 */
export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly extra: {
      errors?: FieldError[];
      headers?: Record<string, string>;
      /** RFC 9457 extension members. */
      extensions?: Record<string, unknown>;
    } = {},
  ) {
    super(detail);
    this.name = 'Problem';
  }
}

export class ValidationProblem extends Problem {
  constructor(detail: string, errors: FieldError[] = []) {
    super(400, 'validation_error', detail, { errors });
  }
}

export class BadRequestProblem extends Problem {
  constructor(detail: string, code = 'bad_request') {
    super(400, code, detail);
  }
}

export class UnauthorizedProblem extends Problem {
  constructor(detail = 'Authentication is required', code = 'unauthorized', challenge = 'Bearer') {
    super(401, code, detail, { headers: { 'WWW-Authenticate': challenge } });
  }
}

export class ForbiddenProblem extends Problem {
  constructor(detail: string, code = 'forbidden') {
    super(403, code, detail);
  }
}

/** The scope-attenuation refusal: asked for more than the caller (or parent) holds. */
export class ScopeEscalationProblem extends ForbiddenProblem {
  constructor(detail: string) {
    super(detail, 'scope_escalation');
  }
}

/** Unknown, or not visible to the caller: both answer exactly the same. */
export class NotFoundProblem extends Problem {
  constructor(what = 'resource') {
    super(404, 'not_found', `The ${what} was not found`);
  }
}

export class ConflictProblem extends Problem {
  constructor(detail: string, code = 'conflict') {
    super(409, code, detail);
  }
}

export class TooManyRequestsProblem extends Problem {
  constructor(detail: string, headers: Record<string, string>) {
    super(429, 'rate_limited', detail, { headers });
  }
}

export class ServiceUnavailableProblem extends Problem {
  constructor(detail: string) {
    super(503, 'service_unavailable', detail);
  }
}

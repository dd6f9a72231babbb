/**
 * RFC 6749 §5.2 (and RFC 7009/8693) error codes, one class each, rendered in exactly one place
 * (OAuthExceptionFilter). `description` is shown to the client: never put internals or secrets in it.
 */
export class OAuthError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
    readonly status = 400,
    readonly headers: Record<string, string> = {},
    /** For logs and audit only (why exactly), never sent to the client. */
    readonly internalReason?: string,
  ) {
    super(`${error}: ${description}`);
    this.name = 'OAuthError';
  }
}

export class InvalidRequestError extends OAuthError {
  constructor(description: string) {
    super('invalid_request', description);
  }
}

/** 401 with `WWW-Authenticate: Basic` (RFC 6749 §5.2): every client-authentication failure looks the same. */
export class InvalidClientError extends OAuthError {
  constructor(internalReason?: string) {
    super(
      'invalid_client',
      'Client authentication failed',
      401,
      { 'WWW-Authenticate': 'Basic realm="agentauth", charset="UTF-8"' },
      internalReason,
    );
  }
}

/** RFC 9449 §5: a missing, invalid or replayed DPoP proof (or one by the wrong key) at the token endpoint. */
export class InvalidDpopProofError extends OAuthError {
  constructor(description: string, internalReason?: string) {
    super('invalid_dpop_proof', description, 400, {}, internalReason);
  }
}

export class InvalidGrantError extends OAuthError {
  constructor(description: string, internalReason?: string) {
    super('invalid_grant', description, 400, {}, internalReason);
  }
}

export class InvalidScopeError extends OAuthError {
  constructor(description: string, internalReason?: string) {
    super('invalid_scope', description, 400, {}, internalReason);
  }
}

export class UnauthorizedClientError extends OAuthError {
  constructor(description: string) {
    super('unauthorized_client', description);
  }
}

export class UnsupportedGrantTypeError extends OAuthError {
  constructor(grantType: string) {
    super('unsupported_grant_type', `The grant type "${grantType.slice(0, 100)}" is not supported`);
  }
}

export class UnsupportedTokenTypeError extends OAuthError {
  constructor(description: string) {
    super('unsupported_token_type', description);
  }
}

export class InvalidTargetError extends OAuthError {
  constructor(description: string) {
    super('invalid_target', description);
  }
}

/**
 * RFC 6750 §3.1 for a Bearer-authenticated call to introspection (RFC 7662 §2.1): the token is not active.
 */
export class InvalidBearerTokenError extends OAuthError {
  constructor(internalReason?: string) {
    super(
      'invalid_token',
      'The access token is invalid or expired',
      401,
      { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
      internalReason,
    );
  }
}

/**
 * RFC 6750 §3.1 for a Bearer-authenticated call to introspection: the token lacks the scope the endpoint
 * needs. (A client authenticated by its credentials gets `unauthorized_client` instead.)
 */
export class InsufficientScopeError extends OAuthError {
  constructor(scope: string) {
    super('insufficient_scope', `The caller needs the scope ${scope}`, 403, {
      'WWW-Authenticate': `Bearer error="insufficient_scope", scope="${scope}"`,
    });
  }
}

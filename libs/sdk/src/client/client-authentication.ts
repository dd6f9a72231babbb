/**
 * How a client proves who it is at the token, introspection and revocation endpoints. The SDK ships the two
 * API-key methods of RFC 6749 §2.3.1; a `private_key_jwt` method (RFC 7523, CONTRACT §9) implements the same
 * interface and signs an assertion whose `aud` is `issuer`.
 */
export interface ClientAuthentication {
  /** The agent id (`client_id`). */
  readonly clientId: string;
  /** The method's RFC 8414 name, e.g. `client_secret_basic`. */
  readonly method: string;
  /** Adds the client's authentication to a request to `endpoint` of the authorization server `issuer`. */
  apply(request: {
    headers: Headers;
    body: URLSearchParams;
    endpoint: string;
    issuer: string;
  }): Promise<void>;
}

/** RFC 6749 §2.3.1: id and secret are form-urlencoded (ASCII), then joined by ':' and base64-encoded. */
function formEncode(value: string): string {
  return encodeURIComponent(value).replace(/%20/g, '+');
}

/** `client_secret_basic`: the API key in `Authorization: Basic` (the default). */
export function clientSecretBasic(clientId: string, clientSecret: string): ClientAuthentication {
  return {
    clientId,
    method: 'client_secret_basic',
    async apply({ headers }) {
      const pair = `${formEncode(clientId)}:${formEncode(clientSecret)}`;
      headers.set('Authorization', `Basic ${btoa(pair)}`);
    },
  };
}

/** `client_secret_post`: `client_id` and `client_secret` as form fields. */
export function clientSecretPost(clientId: string, clientSecret: string): ClientAuthentication {
  return {
    clientId,
    method: 'client_secret_post',
    async apply({ body }) {
      body.set('client_id', clientId);
      body.set('client_secret', clientSecret);
    },
  };
}

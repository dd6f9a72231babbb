/** `none`: a public client (CONTRACT §11) names itself with `client_id` at the token endpoint and proves nothing. */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none';

/** The client authentication methods every endpoint accepts (discovery lists them; `none` only for the token endpoint). */
export const CLIENT_AUTH_METHODS: readonly Exclude<ClientAuthMethod, 'none'>[] = [
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
];

/** RFC 7523 §2.2's `client_assertion_type`. */
export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

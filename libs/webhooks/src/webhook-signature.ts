import { createHmac, randomBytes } from 'node:crypto';

export const SIGNATURE_VERSION = 'v1';

/** Header names of a delivery (`docs/webhooks.md`). */
export const WEBHOOK_HEADERS = {
  id: 'AgentAuth-Webhook-Id',
  timestamp: 'AgentAuth-Webhook-Timestamp',
  signature: 'AgentAuth-Webhook-Signature',
} as const;

/** A new signing secret: `whsec_` + 32 random bytes, base64url. Shown once, stored encrypted. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

/**
 * `v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`. The key is the secret string exactly as shown
 * (prefix included, UTF-8); the timestamp is the unix-seconds value of the timestamp header.
 */
export function signatureHeader(secret: string, timestampSeconds: number, rawBody: string): string {
  const mac = createHmac('sha256', secret).update(`${timestampSeconds}.${rawBody}`).digest('hex');
  return `${SIGNATURE_VERSION}=${mac}`;
}
